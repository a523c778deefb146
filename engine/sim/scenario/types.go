package scenario

import "time"

// File is one scenario file: the device profiles it defines and the fleets
// that run them. A file may hold profiles only (a library of device types)
// or fleets of built-in profiles only.
type File struct {
	// Path is where the file was read from; errors are reported against it.
	Path     string    `yaml:"-" json:"-"`
	Profiles []Profile `yaml:"profiles,omitempty" json:"profiles,omitempty" jsonschema:"description=Device types: what a device publishes and how it answers commands."`
	Fleets   []Fleet   `yaml:"fleets,omitempty" json:"fleets,omitempty" jsonschema:"description=Groups of devices of one profile, with how many, how fast they connect and the seed of their values."`
}

// Pos is a place in a scenario file, 1-based; the zero Pos means "not from
// a file" (a profile built in code).
type Pos struct {
	Line, Column int
}

// Profile is a device type.
type Profile struct {
	At          Pos    `yaml:"-" json:"-"`
	Name        string `yaml:"name" json:"name" jsonschema:"description=The profile's name; fleets refer to it."`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Vars are fixed per device when it is created (seeded): a device's
	// zone, its serial number, its base temperature.
	Vars Fields `yaml:"vars,omitempty" json:"vars,omitempty" jsonschema:"description=Per-device values fixed when the device is created, from generators seeded per device. Templates and expressions read them as .Vars.name / vars.name."`
	// State is the device's mutable state and its initial values; commands
	// change it and streams read it.
	State     map[string]any `yaml:"state,omitempty" json:"state,omitempty" jsonschema:"description=Initial state. Commands change it (set), streams and expressions read it as state.name."`
	Streams   []Stream       `yaml:"streams,omitempty" json:"streams,omitempty"`
	Handlers  []Handler      `yaml:"handlers,omitempty" json:"handlers,omitempty"`
	Lifecycle *Lifecycle     `yaml:"lifecycle,omitempty" json:"lifecycle,omitempty"`
	// Sparkplug makes the device a Sparkplug B edge node: NBIRTH and DBIRTH
	// on connect, NDATA/DDATA on its streams, NDEATH as its will, and the
	// Node Control/Rebirth command answered.
	Sparkplug *Sparkplug `yaml:"sparkplug,omitempty" json:"sparkplug,omitempty"`
}

// Stream is a message a device publishes again and again.
type Stream struct {
	At   Pos    `yaml:"-" json:"-"`
	Name string `yaml:"name" json:"name" jsonschema:"description=Names the stream for handlers that switch it on or off and for stats."`
	// Topic is a text/template over the device: {{.ID}}, {{.Index}},
	// {{.Vars.zone}}, {{.State.mode}}.
	Topic  string   `yaml:"topic" json:"topic"`
	Every  Duration `yaml:"every" json:"every" jsonschema:"description=Interval between messages, e.g. 1s or 250ms."`
	Jitter Duration `yaml:"jitter,omitempty" json:"jitter,omitempty" jsonschema:"description=Each interval varies by up to this much either way."`
	QoS    byte     `yaml:"qos,omitempty" json:"qos,omitempty" jsonschema:"enum=0,enum=1,enum=2"`
	Retain bool     `yaml:"retain,omitempty" json:"retain,omitempty"`
	// Off streams start switched off; a handler's stream action turns them on.
	Off        bool        `yaml:"off,omitempty" json:"off,omitempty"`
	Properties *Properties `yaml:"properties,omitempty" json:"properties,omitempty"`
	// Exactly one of Fields, Template and Raw is the payload.
	Fields   Fields `yaml:"fields,omitempty" json:"fields,omitempty" jsonschema:"description=A JSON object payload, one generator per field, in this order."`
	Template string `yaml:"template,omitempty" json:"template,omitempty" jsonschema:"description=A text/template payload over .ID .Index .Vars .State .Fields .Seq .Now."`
	Raw      *Raw   `yaml:"raw,omitempty" json:"raw,omitempty"`
}

// Properties are the MQTT 5 properties a stream or reply carries; MQTT
// 3.1.1 targets ignore them.
type Properties struct {
	ContentType     string            `yaml:"content_type,omitempty" json:"content_type,omitempty"`
	PayloadFormat   *byte             `yaml:"payload_format,omitempty" json:"payload_format,omitempty" jsonschema:"enum=0,enum=1"`
	MessageExpiry   Duration          `yaml:"message_expiry,omitempty" json:"message_expiry,omitempty"`
	ResponseTopic   string            `yaml:"response_topic,omitempty" json:"response_topic,omitempty"`
	CorrelationData string            `yaml:"correlation_data,omitempty" json:"correlation_data,omitempty"`
	User            map[string]string `yaml:"user,omitempty" json:"user,omitempty" jsonschema:"description=User properties (templates allowed in values)."`
}

// Raw is a fixed binary payload, given in exactly one encoding.
type Raw struct {
	Hex    string `yaml:"hex,omitempty" json:"hex,omitempty"`
	Base64 string `yaml:"base64,omitempty" json:"base64,omitempty"`
	Text   string `yaml:"text,omitempty" json:"text,omitempty"`
}

// Fields is an ordered set of named generators. Order matters: a JSON
// payload keeps it, and an expression may read the fields before it.
type Fields []NamedField

// NamedField is one entry of Fields.
type NamedField struct {
	Name  string
	Field Field
}

// Field is one generated value: exactly one generator, then the optional
// numeric modifiers. In YAML a bare scalar (21.5, "on") is a constant.
type Field struct {
	At Pos `yaml:"-" json:"-"`

	Const     any        `yaml:"const,omitempty" json:"const,omitempty"`
	Counter   *Counter   `yaml:"counter,omitempty" json:"counter,omitempty"`
	Uniform   *Uniform   `yaml:"uniform,omitempty" json:"uniform,omitempty"`
	Gaussian  *Gaussian  `yaml:"gaussian,omitempty" json:"gaussian,omitempty"`
	Walk      *Walk      `yaml:"walk,omitempty" json:"walk,omitempty"`
	Sine      *Wave      `yaml:"sine,omitempty" json:"sine,omitempty"`
	Square    *Wave      `yaml:"square,omitempty" json:"square,omitempty"`
	Triangle  *Wave      `yaml:"triangle,omitempty" json:"triangle,omitempty"`
	Sawtooth  *Wave      `yaml:"sawtooth,omitempty" json:"sawtooth,omitempty"`
	Daily     *Daily     `yaml:"daily,omitempty" json:"daily,omitempty"`
	Approach  *Approach  `yaml:"approach,omitempty" json:"approach,omitempty"`
	Choice    *Choice    `yaml:"choice,omitempty" json:"choice,omitempty"`
	Bool      *Bool      `yaml:"bool,omitempty" json:"bool,omitempty"`
	Toggle    *Toggle    `yaml:"toggle,omitempty" json:"toggle,omitempty"`
	Markov    *Markov    `yaml:"markov,omitempty" json:"markov,omitempty"`
	Timestamp *Timestamp `yaml:"timestamp,omitempty" json:"timestamp,omitempty"`
	UUID      *IDGen     `yaml:"uuid,omitempty" json:"uuid,omitempty"`
	ULID      *IDGen     `yaml:"ulid,omitempty" json:"ulid,omitempty"`
	GPS       *GPS       `yaml:"gps,omitempty" json:"gps,omitempty"`
	Fake      *Fake      `yaml:"fake,omitempty" json:"fake,omitempty"`
	Expr      string     `yaml:"expr,omitempty" json:"expr,omitempty" jsonschema:"description=An expr-lang expression over earlier fields (by name), state, vars, id, index, seq and now."`
	Integrate *Calculus  `yaml:"integrate,omitempty" json:"integrate,omitempty"`
	Derive    *Calculus  `yaml:"derive,omitempty" json:"derive,omitempty"`
	Replay    *Replay    `yaml:"replay,omitempty" json:"replay,omitempty"`
	Object    Fields     `yaml:"object,omitempty" json:"object,omitempty" jsonschema:"description=A nested JSON object of fields."`

	// Noise adds gaussian noise of this standard deviation to a numeric value.
	Noise float64 `yaml:"noise,omitempty" json:"noise,omitempty"`
	// Precision rounds a numeric value to this many decimals.
	Precision *int `yaml:"precision,omitempty" json:"precision,omitempty"`
}

// Number is a literal number or an expression (a string) evaluated when
// used, so a target can follow state: `target: state.setpoint`.
type Number struct {
	Value float64
	Expr  string
}

// Counter counts up by Step from Start; with Wrap it restarts at Start once
// it reaches Wrap (a 16-bit sequence: wrap 65536).
type Counter struct {
	Start int64 `yaml:"start,omitempty" json:"start,omitempty"`
	Step  int64 `yaml:"step,omitempty" json:"step,omitempty" jsonschema:"description=Default 1."`
	Wrap  int64 `yaml:"wrap,omitempty" json:"wrap,omitempty"`
}

// Uniform draws evenly from [Min, Max]; Integer draws whole numbers.
type Uniform struct {
	Min     float64 `yaml:"min" json:"min"`
	Max     float64 `yaml:"max" json:"max"`
	Integer bool    `yaml:"integer,omitempty" json:"integer,omitempty"`
}

// Gaussian draws from a normal distribution, clamped to Min/Max when set.
type Gaussian struct {
	Mean   float64  `yaml:"mean" json:"mean"`
	StdDev float64  `yaml:"stddev" json:"stddev"`
	Min    *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max    *float64 `yaml:"max,omitempty" json:"max,omitempty"`
}

// Walk is a random walk from Start within [Min, Max], moving at most Step
// per sample and pulled back towards Mean by Revert (0: none, 1: at once).
type Walk struct {
	Start  *float64 `yaml:"start,omitempty" json:"start,omitempty" jsonschema:"description=Default: the middle of min and max."`
	Min    float64  `yaml:"min" json:"min"`
	Max    float64  `yaml:"max" json:"max"`
	Step   float64  `yaml:"step" json:"step"`
	Mean   *float64 `yaml:"mean,omitempty" json:"mean,omitempty"`
	Revert float64  `yaml:"revert,omitempty" json:"revert,omitempty" jsonschema:"minimum=0,maximum=1"`
}

// Wave is a periodic signal between Min and Max. Phase shifts it by a
// fraction of the period; RandomPhase gives each device its own (seeded).
type Wave struct {
	Min         float64  `yaml:"min" json:"min"`
	Max         float64  `yaml:"max" json:"max"`
	Period      Duration `yaml:"period" json:"period"`
	Phase       float64  `yaml:"phase,omitempty" json:"phase,omitempty" jsonschema:"minimum=0,maximum=1"`
	RandomPhase bool     `yaml:"random_phase,omitempty" json:"random_phase,omitempty"`
}

// Daily follows a profile over the day: values at times of day ("06:30"),
// interpolated linearly and wrapping at midnight, in TZ (default local).
type Daily struct {
	Points map[string]float64 `yaml:"points" json:"points"`
	TZ     string             `yaml:"tz,omitempty" json:"tz,omitempty"`
}

// Approach moves from Start towards Target, halving the distance every
// HalfLife: a heater reaching its setpoint, a battery discharging.
type Approach struct {
	Start    float64  `yaml:"start" json:"start"`
	Target   Number   `yaml:"target" json:"target"`
	HalfLife Duration `yaml:"half_life" json:"half_life"`
}

// Choice picks one of Values, by Weights when given (same length).
type Choice struct {
	Values  []any     `yaml:"values" json:"values"`
	Weights []float64 `yaml:"weights,omitempty" json:"weights,omitempty"`
}

// Bool is true with probability P.
type Bool struct {
	P float64 `yaml:"p" json:"p" jsonschema:"minimum=0,maximum=1"`
}

// Toggle flips between false and true, each sample with probability P
// (default 1: every sample).
type Toggle struct {
	Start bool     `yaml:"start,omitempty" json:"start,omitempty"`
	P     *float64 `yaml:"p,omitempty" json:"p,omitempty"`
}

// Markov is a small state machine: from each state, the probability of
// moving to each other state at a sample (what is left stays).
type Markov struct {
	Start       string                        `yaml:"start" json:"start"`
	Transitions map[string]map[string]float64 `yaml:"transitions" json:"transitions"`
}

// Timestamp is the sample time in a format: unix, unix_ms or rfc3339
// (written as `timestamp: unix_ms`).
type Timestamp struct {
	Format string `yaml:"format" json:"format" jsonschema:"enum=unix,enum=unix_ms,enum=rfc3339"`
}

// IDGen makes a fresh UUID (v4) or ULID per sample, from the device's seed.
// PerDevice makes one per device instead (a stable ID).
type IDGen struct {
	PerDevice bool `yaml:"per_device,omitempty" json:"per_device,omitempty"`
}

// GPS is a position: moving along Route at SpeedKMH (looping or going back
// and forth), or a random point within RadiusM of Center per sample.
// Its value is {"lat": …, "lon": …} (plus "speed_kmh" and "heading" on a
// route).
type GPS struct {
	Route    [][2]float64 `yaml:"route,omitempty" json:"route,omitempty" jsonschema:"description=Waypoints as [lat, lon]."`
	SpeedKMH float64      `yaml:"speed_kmh,omitempty" json:"speed_kmh,omitempty"`
	Loop     bool         `yaml:"loop,omitempty" json:"loop,omitempty"`
	Center   *[2]float64  `yaml:"center,omitempty" json:"center,omitempty"`
	RadiusM  float64      `yaml:"radius_m,omitempty" json:"radius_m,omitempty"`
}

// Fake is realistic fake data from gofakeit, seeded per device: name,
// first_name, last_name, email, phone, company, address, street, city,
// country, latitude, longitude, serial, mac, ipv4, word, sentence, color.
type Fake struct {
	Kind string `yaml:"kind" json:"kind"`
}

// Calculus integrates (odometer from speed, energy from power) or derives
// (rate of change) another field Of, over seconds, times Scale (default 1).
type Calculus struct {
	Of    string  `yaml:"of" json:"of"`
	Scale float64 `yaml:"scale,omitempty" json:"scale,omitempty"`
}

// Replay plays back the values of a topic in the capture (its payload, or
// the JSON value at Path), in order, looping at the end.
type Replay struct {
	Topic string `yaml:"topic" json:"topic"`
	Path  string `yaml:"path,omitempty" json:"path,omitempty" jsonschema:"description=A JSON path into the payload, e.g. $.temperature."`
}

// Handler answers commands: the device subscribes to Filter and runs
// Actions, in order, on each message that matches.
type Handler struct {
	At      Pos      `yaml:"-" json:"-"`
	Name    string   `yaml:"name" json:"name"`
	Filter  string   `yaml:"filter" json:"filter" jsonschema:"description=A topic filter template, e.g. devices/{{.ID}}/cmd/#."`
	QoS     byte     `yaml:"qos,omitempty" json:"qos,omitempty" jsonschema:"enum=0,enum=1,enum=2"`
	Actions []Action `yaml:"actions" json:"actions"`
}

// Action is one step of a handler: exactly one of its fields. If, when
// set, is an expression the step runs under (over payload, state, vars).
type Action struct {
	At Pos    `yaml:"-" json:"-"`
	If string `yaml:"if,omitempty" json:"if,omitempty"`
	// Set assigns state keys from the command: a JSON path into its
	// payload ($.value), or an expression (=state.count + 1).
	Set     map[string]string `yaml:"set,omitempty" json:"set,omitempty"`
	Reply   *Reply            `yaml:"reply,omitempty" json:"reply,omitempty"`
	Publish *Publish          `yaml:"publish,omitempty" json:"publish,omitempty"`
	Delay   Duration          `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Fail stops the handler this percentage of the time, replying Reply
	// when it is set (an error answer).
	Fail    *Fail         `yaml:"fail,omitempty" json:"fail,omitempty"`
	Stream  *StreamSwitch `yaml:"stream,omitempty" json:"stream,omitempty"`
	Offline Duration      `yaml:"offline,omitempty" json:"offline,omitempty" jsonschema:"description=Drop the connection (will fires) and come back after this long."`
}

// Reply answers a command: to its MQTT 5 response topic with its
// correlation data when it has one, else to Topic.
type Reply struct {
	Topic   string `yaml:"topic,omitempty" json:"topic,omitempty"`
	Payload string `yaml:"payload,omitempty" json:"payload,omitempty" jsonschema:"description=A text/template over .ID .Vars .State .Command (its decoded JSON) .Topic."`
	Fields  Fields `yaml:"fields,omitempty" json:"fields,omitempty"`
	QoS     byte   `yaml:"qos,omitempty" json:"qos,omitempty"`
}

// Publish sends one message.
type Publish struct {
	Topic   string `yaml:"topic" json:"topic"`
	Payload string `yaml:"payload,omitempty" json:"payload,omitempty"`
	Fields  Fields `yaml:"fields,omitempty" json:"fields,omitempty"`
	QoS     byte   `yaml:"qos,omitempty" json:"qos,omitempty"`
	Retain  bool   `yaml:"retain,omitempty" json:"retain,omitempty"`
}

// Fail is a handler failing some of the time.
type Fail struct {
	Percent float64 `yaml:"percent" json:"percent" jsonschema:"minimum=0,maximum=100"`
	Reply   *Reply  `yaml:"reply,omitempty" json:"reply,omitempty"`
}

// StreamSwitch turns a stream on or off.
type StreamSwitch struct {
	Name string `yaml:"name" json:"name"`
	On   bool   `yaml:"on" json:"on"`
}

// Lifecycle is how a device comes and goes.
type Lifecycle struct {
	// Status is a retained topic set to Online on connect, to Offline on a
	// graceful stop, and to Offline by the broker (the will) when the
	// device drops.
	Status    *Status  `yaml:"status,omitempty" json:"status,omitempty"`
	Birth     *Publish `yaml:"birth,omitempty" json:"birth,omitempty" jsonschema:"description=Published once after each connect."`
	Will      *Publish `yaml:"will,omitempty" json:"will,omitempty" jsonschema:"description=A will of its own; default: the status topic's offline value."`
	KeepAlive Duration `yaml:"keep_alive,omitempty" json:"keep_alive,omitempty"`
	Reconnect *Backoff `yaml:"reconnect,omitempty" json:"reconnect,omitempty"`
	Chaos     *Chaos   `yaml:"chaos,omitempty" json:"chaos,omitempty"`
	Session   *Session `yaml:"session,omitempty" json:"session,omitempty"`
}

// Status is the retained online/offline topic.
type Status struct {
	Topic   string `yaml:"topic" json:"topic"`
	Online  string `yaml:"online,omitempty" json:"online,omitempty" jsonschema:"description=Default online."`
	Offline string `yaml:"offline,omitempty" json:"offline,omitempty" jsonschema:"description=Default offline."`
	QoS     byte   `yaml:"qos,omitempty" json:"qos,omitempty"`
}

// Backoff is the wait before reconnecting: from Min, doubling up to Max.
type Backoff struct {
	Min Duration `yaml:"min,omitempty" json:"min,omitempty"`
	Max Duration `yaml:"max,omitempty" json:"max,omitempty"`
}

// Chaos makes devices unreliable on purpose.
type Chaos struct {
	// MTBF is the mean time between random disconnects (exponential).
	MTBF Duration `yaml:"mtbf,omitempty" json:"mtbf,omitempty"`
	// Downtime is how long a device stays away after one.
	Downtime Duration `yaml:"downtime,omitempty" json:"downtime,omitempty"`
	// DropPercent of scheduled messages are not sent (and counted).
	DropPercent float64 `yaml:"drop_percent,omitempty" json:"drop_percent,omitempty" jsonschema:"minimum=0,maximum=100"`
}

// Session is the MQTT session a device asks for.
type Session struct {
	CleanStart *bool    `yaml:"clean_start,omitempty" json:"clean_start,omitempty"`
	Expiry     Duration `yaml:"expiry,omitempty" json:"expiry,omitempty"`
}

// Sparkplug makes a profile a Sparkplug B edge node. Metrics are the
// node's metrics (NBIRTH/NDATA); Devices are devices behind the node
// (DBIRTH/DDATA), each with its own metrics.
type Sparkplug struct {
	Group   string            `yaml:"group" json:"group"`
	Node    string            `yaml:"node" json:"node" jsonschema:"description=Edge node ID template, e.g. {{.ID}}."`
	Every   Duration          `yaml:"every" json:"every"`
	Metrics Fields            `yaml:"metrics" json:"metrics"`
	Devices []SparkplugDevice `yaml:"devices,omitempty" json:"devices,omitempty"`
}

// StreamNames are the names by which handlers switch the node's data on
// and off: NDATA for the node's, "DDATA name" for each device's.
func (sp *Sparkplug) StreamNames() []string {
	if sp == nil {
		return nil
	}
	out := []string{"NDATA"}
	for _, d := range sp.Devices {
		out = append(out, "DDATA "+d.Name)
	}
	return out
}

// SparkplugDevice is one device behind a Sparkplug edge node.
type SparkplugDevice struct {
	Name    string `yaml:"name" json:"name"`
	Metrics Fields `yaml:"metrics" json:"metrics"`
}

// Fleet is Count devices of one profile.
type Fleet struct {
	At      Pos    `yaml:"-" json:"-"`
	Name    string `yaml:"name,omitempty" json:"name,omitempty" jsonschema:"description=Default: the profile's name."`
	Profile string `yaml:"profile" json:"profile"`
	Count   int    `yaml:"count" json:"count" jsonschema:"minimum=1"`
	// ID and ClientID are templates over .Index (0-based), .Fleet and
	// .Profile; ClientID may also use .ID.
	ID       string `yaml:"id,omitempty" json:"id,omitempty" jsonschema:"description=Device ID template; default {{.Fleet}}-{{.Index}}."`
	ClientID string `yaml:"client_id,omitempty" json:"client_id,omitempty" jsonschema:"description=MQTT client ID template; default: the device ID."`
	Ramp     Ramp   `yaml:"ramp,omitempty" json:"ramp,omitempty" jsonschema:"description=Connections per second (200/s) or a duration to spread them over (30s); default 100/s."`
	Seed     int64  `yaml:"seed,omitempty" json:"seed,omitempty"`
}

// Ramp is how fast a fleet connects: PerSecond, or all spread evenly over
// Over. Zero means the default.
type Ramp struct {
	PerSecond float64
	Over      time.Duration
}

// Duration is a time.Duration written as Go writes it: 1s, 250ms, 1h30m.
type Duration time.Duration
