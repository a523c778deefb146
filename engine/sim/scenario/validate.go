package scenario

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"go.yaml.in/yaml/v3"
)

// checker runs the static checks of one decoded struct: node is its
// mapping, seen the value nodes of the keys it was given.
type checker struct {
	d    *decoder
	node *yaml.Node
	seen map[string]*yaml.Node
}

// at is where to report a problem with key: its value, or the struct when
// the key was not written.
func (c checker) at(key string) *yaml.Node {
	if n := c.seen[key]; n != nil {
		return n
	}
	return c.node
}

func (c checker) has(key string) bool { return c.seen[key] != nil }

// valid is has, for a value that was read without error: only those get
// range checks.
func (c checker) valid(key string) bool { return c.has(key) && !c.d.bad[c.seen[key]] }

func (c checker) qos(key string, q byte) {
	if q > 2 && c.valid(key) {
		c.d.errorf(c.at(key), "`%s` must be 0, 1 or 2, got %d", key, q)
	}
}

func (c checker) between(key string, x, lo, hi float64) {
	if c.valid(key) && (x < lo || x > hi) {
		c.d.errorf(c.at(key), "`%s` must be between %g and %g, got %g", key, lo, hi, x)
	}
}

func (c checker) positive(key string, dur Duration) {
	if c.valid(key) && dur <= 0 {
		c.d.errorf(c.at(key), "`%s` must be longer than 0, like 1s", key)
	}
}

func (c checker) minMax(lo, hi float64) {
	if c.valid("min") && c.valid("max") && lo > hi {
		c.d.errorf(c.at("max"), "`max` (%g) is below `min` (%g)", hi, lo)
	}
}

// template checks the syntax of a text/template. Functions are not
// checked: the device model decides which it offers.
func (c checker) template(key, text string) {
	if !strings.Contains(text, "{{") {
		return
	}
	t := parse.New(key)
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(text, "{{", "}}", map[string]*parse.Tree{}); err != nil {
		// "template: topic:1: unexpected ..." -> "unexpected ..."
		msg := strings.TrimPrefix(err.Error(), "template: ")
		if rest, ok := strings.CutPrefix(msg, key+":"); ok {
			msg = rest
			if line, rest, ok := strings.Cut(msg, ": "); ok {
				msg = rest
				if line != "1" {
					msg = "line " + line + " of the template: " + rest
				}
			}
		}
		c.d.errorf(c.at(key), "`%s`: bad template: %s", key, msg)
	}
}

// literal is a template without its actions: what is fixed in a topic.
func literal(text string) string {
	for {
		i := strings.Index(text, "{{")
		j := strings.Index(text, "}}")
		if i < 0 || j < i {
			return text
		}
		text = text[:i] + text[j+2:]
	}
}

// topic checks a topic a device publishes to: a template, and no wildcards.
func (c checker) topic(key, text string) {
	c.template(key, text)
	if strings.ContainsAny(literal(text), "+#") {
		c.d.errorf(c.at(key), "`%s`: a topic to publish to cannot hold the wildcards + or #, got `%s`", key, text)
	}
}

// filter checks the wildcards of a topic filter: + is a whole level, # is
// a whole level and the last one.
func (c checker) filter(key, text string) {
	levels := strings.Split(literal(text), "/")
	for i, l := range levels {
		if (strings.Contains(l, "+") && l != "+") || (strings.Contains(l, "#") && (l != "#" || i != len(levels)-1)) {
			c.d.errorf(c.at(key), "`%s`: `%s` is not a topic filter: + must be a whole level and # a whole last level (a/+/c, a/#)", key, text)
			return
		}
	}
}

// one reports when not exactly one of keys has a value (given by set).
func (c checker) one(what string, keys []string, set func(string) bool, allowNone bool) {
	var found []string
	for _, k := range keys {
		if set(k) {
			found = append(found, k)
		}
	}
	switch {
	case len(found) == 0 && !allowNone:
		c.d.errorf(c.node, "%s needs one of %s", what, strings.Join(keys, ", "))
	case len(found) > 1:
		c.d.errorf(c.at(found[1]), "%s has both `%s` and `%s`; keep one", what, found[0], found[1])
	}
}

func (d *decoder) check(v reflect.Value, n *yaml.Node, seen map[string]*yaml.Node) {
	c := checker{d: d, node: n, seen: seen}
	switch x := v.Addr().Interface().(type) {
	case *Profile:
		c.profile(x)
	case *Stream:
		c.qos("qos", x.QoS)
		c.positive("every", x.Every)
		if x.Every > 0 && x.Jitter >= x.Every {
			d.errorf(c.at("jitter"), "`jitter` (%s) must be shorter than `every` (%s)", durationText(x.Jitter.D()), durationText(x.Every.D()))
		}
		c.topic("topic", x.Topic)
		c.template("template", x.Template)
		c.one(fmt.Sprintf("stream `%s`", x.Name), []string{"fields", "template", "raw"}, func(k string) bool {
			return (k == "fields" && len(x.Fields) > 0) || (k == "template" && x.Template != "") || (k == "raw" && x.Raw != nil)
		}, false)
	case *Properties:
		if x.PayloadFormat != nil && *x.PayloadFormat > 1 {
			d.errorf(c.at("payload_format"), "`payload_format` must be 0 (bytes) or 1 (UTF-8 text), got %d", *x.PayloadFormat)
		}
		c.template("response_topic", x.ResponseTopic)
		for _, k := range slices.Sorted(maps.Keys(x.User)) {
			checker{d: d, node: c.at("user"), seen: map[string]*yaml.Node{k: entry(c.at("user"), k)}}.template(k, x.User[k])
		}
	case *Raw:
		c.one("`raw`", []string{"hex", "base64", "text"}, func(k string) bool {
			return (k == "hex" && x.Hex != "") || (k == "base64" && x.Base64 != "") || (k == "text" && x.Text != "")
		}, false)
		if _, err := hex.DecodeString(strings.Join(strings.Fields(x.Hex), "")); err != nil {
			d.errorf(c.at("hex"), "`hex`: not hexadecimal bytes (like 0a1b2c): %v", err)
		}
		if _, err := base64.StdEncoding.DecodeString(x.Base64); err != nil {
			d.errorf(c.at("base64"), "`base64`: not standard base64: %v", err)
		}
	case *Field:
		if x.Noise < 0 {
			d.errorf(c.at("noise"), "`noise` is a standard deviation and cannot be negative, got %g", x.Noise)
		}
		if x.Precision != nil && (*x.Precision < 0 || *x.Precision > 15) {
			d.errorf(c.at("precision"), "`precision` is a number of decimals from 0 to 15, got %d", *x.Precision)
		}
		if c.has("object") && len(x.Object) == 0 {
			d.errorf(c.at("object"), "`object` needs at least one field")
		}
		if c.has("expr") && strings.TrimSpace(x.Expr) == "" {
			d.errorf(c.at("expr"), "`expr` is empty")
		}
	case *Counter:
		if c.has("step") && x.Step == 0 {
			d.errorf(c.at("step"), "`step` of a counter cannot be 0 (leave it out for 1)")
		}
		if c.has("wrap") && x.Wrap <= x.Start {
			d.errorf(c.at("wrap"), "`wrap` (%d) must be above `start` (%d)", x.Wrap, x.Start)
		}
	case *Uniform:
		c.minMax(x.Min, x.Max)
	case *Gaussian:
		if x.StdDev < 0 {
			d.errorf(c.at("stddev"), "`stddev` cannot be negative, got %g", x.StdDev)
		}
		if x.Min != nil && x.Max != nil {
			c.minMax(*x.Min, *x.Max)
		}
	case *Walk:
		c.minMax(x.Min, x.Max)
		if x.Step <= 0 && c.has("step") {
			d.errorf(c.at("step"), "`step` must be above 0, got %g", x.Step)
		}
		if x.Start != nil {
			c.between("start", *x.Start, x.Min, x.Max)
		}
		c.between("revert", x.Revert, 0, 1)
	case *Wave:
		c.minMax(x.Min, x.Max)
		c.positive("period", x.Period)
		c.between("phase", x.Phase, 0, 1)
	case *Daily:
		if c.has("points") && len(x.Points) == 0 {
			d.errorf(c.at("points"), "`points` needs at least one time of day, like \"06:30\": 18.5")
		}
		for _, k := range slices.Sorted(maps.Keys(x.Points)) {
			if _, err := time.Parse("15:04", k); err != nil {
				d.errorf(entry(c.at("points"), k), "`%s` is not a time of day like 06:30", k)
			}
		}
	case *Approach:
		c.positive("half_life", x.HalfLife)
	case *Choice:
		if c.has("values") && len(x.Values) == 0 {
			d.errorf(c.at("values"), "`values` needs at least one value")
		}
		c.weights(x)
	case *Bool:
		c.between("p", x.P, 0, 1)
	case *Toggle:
		if x.P != nil {
			c.between("p", *x.P, 0, 1)
		}
	case *Markov:
		c.markov(x)
	case *Timestamp:
		if formats := []string{"unix", "unix_ms", "rfc3339"}; !slices.Contains(formats, x.Format) && c.has("format") {
			d.errorf(c.at("format"), "unknown timestamp format `%s`%s", x.Format, suggest(x.Format, formats))
		}
	case *GPS:
		c.gps(x)
	case *Handler:
		c.qos("qos", x.QoS)
		c.template("filter", x.Filter)
		c.filter("filter", x.Filter)
		if c.has("actions") && len(x.Actions) == 0 {
			d.errorf(c.at("actions"), "handler `%s` has no actions", x.Name)
		}
	case *Action:
		c.one("an action", []string{"set", "reply", "publish", "delay", "fail", "stream", "offline"}, c.has, false)
		c.positive("delay", x.Delay)
		c.positive("offline", x.Offline)
	case *Reply:
		c.qos("qos", x.QoS)
		c.topic("topic", x.Topic)
		c.template("payload", x.Payload)
		c.one("`reply`", []string{"payload", "fields"}, c.has, true)
	case *Publish:
		c.qos("qos", x.QoS)
		c.topic("topic", x.Topic)
		c.template("payload", x.Payload)
		c.one("a message", []string{"payload", "fields"}, c.has, true)
	case *Fail:
		c.between("percent", x.Percent, 0, 100)
	case *Status:
		c.qos("qos", x.QoS)
		c.topic("topic", x.Topic)
	case *Backoff:
		if x.Min > 0 && x.Max > 0 && x.Min > x.Max {
			d.errorf(c.at("max"), "`max` (%s) is below `min` (%s)", durationText(x.Max.D()), durationText(x.Min.D()))
		}
	case *Lifecycle:
		if x.KeepAlive > Duration(65535*time.Second) {
			d.errorf(c.at("keep_alive"), "`keep_alive` can be at most 18h12m15s (65535 seconds, the MQTT limit), got %s", durationText(x.KeepAlive.D()))
		}
	case *Session:
		if x.Expiry > Duration(math.MaxUint32*time.Second) {
			d.errorf(c.at("expiry"), "`expiry` can be at most %d seconds (the MQTT limit), got %s", uint32(math.MaxUint32), durationText(x.Expiry.D()))
		}
	case *Chaos:
		c.between("drop_percent", x.DropPercent, 0, 100)
	case *Sparkplug:
		c.positive("every", x.Every)
		c.template("node", x.Node)
		if c.has("metrics") && len(x.Metrics) == 0 {
			d.errorf(c.at("metrics"), "`metrics` needs at least one metric")
		}
	case *SparkplugDevice:
		if c.has("metrics") && len(x.Metrics) == 0 {
			d.errorf(c.at("metrics"), "`metrics` needs at least one metric")
		}
	case *Fleet:
		if c.valid("count") && x.Count < 1 {
			d.errorf(c.at("count"), "`count` must be at least 1, got %d", x.Count)
		}
		c.template("id", x.ID)
		c.template("client_id", x.ClientID)
	}
}

func (c checker) weights(x *Choice) {
	if !c.has("weights") {
		return
	}
	if len(x.Weights) != len(x.Values) {
		c.d.errorf(c.at("weights"), "`weights` has %d entries but `values` has %d; give one weight per value", len(x.Weights), len(x.Values))
	}
	sum := 0.0
	for i, w := range x.Weights {
		if w < 0 {
			c.d.errorf(c.at("weights").Content[i], "a weight cannot be negative, got %g", w)
		}
		sum += w
	}
	if sum <= 0 && len(x.Weights) > 0 {
		c.d.errorf(c.at("weights"), "`weights` add up to %g; at least one must be above 0", sum)
	}
}

func (c checker) markov(x *Markov) {
	if !c.has("transitions") {
		return
	}
	tn := c.at("transitions")
	if c.has("start") && x.Start != "" {
		if _, ok := x.Transitions[x.Start]; !ok {
			c.d.errorf(c.at("start"), "`start` state `%s` is not in `transitions`%s", x.Start, suggest(x.Start, slices.Sorted(maps.Keys(x.Transitions))))
		}
	}
	if len(x.Transitions) == 0 {
		c.d.errorf(tn, "`transitions` needs at least one state (write `idle: {}` for a state that never leaves)")
	}
	for _, from := range slices.Sorted(maps.Keys(x.Transitions)) {
		row, rn := x.Transitions[from], entry(tn, from)
		sum := 0.0
		for _, to := range slices.Sorted(maps.Keys(row)) {
			p := row[to]
			at := entry(rn, to)
			if _, ok := x.Transitions[to]; !ok {
				c.d.errorf(keyOf(rn, to), "state `%s` moves to `%s`, which is not a state; add `%s: {}` to `transitions`%s", from, to, to, didYouMean(to, slices.Sorted(maps.Keys(x.Transitions))))
			}
			if p < 0 || p > 1 {
				c.d.errorf(at, "the probability of `%s` -> `%s` must be between 0 and 1, got %g", from, to, p)
			}
			sum += p
		}
		if sum > 1+1e-9 {
			c.d.errorf(rn, "the probabilities out of `%s` add up to %g; they must add up to at most 1 (what is left stays)", from, sum)
		}
	}
}

// didYouMean is suggest when a word is close, else nothing.
func didYouMean(word string, words []string) string {
	if s := suggest(word, words); strings.HasPrefix(s, "; did") {
		return s
	}
	return ""
}

func (c checker) gps(x *GPS) {
	route, center := len(x.Route) > 0, x.Center != nil
	switch {
	case route && center:
		c.d.errorf(c.at("center"), "`gps` has both `route` and `center`; keep one")
	case !route && !center:
		c.d.errorf(c.node, "`gps` needs a `route` (with `speed_kmh`) or a `center` (with `radius_m`)")
	case route:
		if len(x.Route) < 2 {
			c.d.errorf(c.at("route"), "`route` needs at least 2 waypoints")
		}
		if x.SpeedKMH <= 0 {
			c.d.errorf(c.at("speed_kmh"), "a route needs `speed_kmh` above 0")
		}
	case center:
		if x.RadiusM <= 0 {
			c.d.errorf(c.at("radius_m"), "a center needs `radius_m` above 0")
		}
	}
	points := x.Route
	if center {
		points = append(points, *x.Center)
	}
	for _, p := range points {
		if p[0] < -90 || p[0] > 90 || p[1] < -180 || p[1] > 180 {
			key := "route"
			if center && p == *x.Center {
				key = "center"
			}
			c.d.errorf(c.at(key), "[%g, %g] is not a [lat, lon] position (lat -90..90, lon -180..180)", p[0], p[1])
		}
	}
}

func (c checker) profile(p *Profile) {
	streams := map[string]bool{}
	for _, s := range p.Streams {
		if s.Name != "" && streams[s.Name] {
			c.d.errorf(&yaml.Node{Line: s.At.Line, Column: s.At.Column}, "profile `%s` has two streams named `%s`", p.Name, s.Name)
		}
		streams[s.Name] = true
	}
	for _, name := range p.Sparkplug.StreamNames() {
		streams[name] = true
	}
	handlers := map[string]bool{}
	for _, h := range p.Handlers {
		if h.Name != "" && handlers[h.Name] {
			c.d.errorf(&yaml.Node{Line: h.At.Line, Column: h.At.Column}, "profile `%s` has two handlers named `%s`", p.Name, h.Name)
		}
		handlers[h.Name] = true
		for _, a := range h.Actions {
			if a.Stream != nil && a.Stream.Name != "" && !streams[a.Stream.Name] {
				c.d.errorf(&yaml.Node{Line: a.At.Line, Column: a.At.Column}, "action switches stream `%s`, which profile `%s` does not have%s", a.Stream.Name, p.Name, didYouMean(a.Stream.Name, slices.Sorted(maps.Keys(streams))))
			}
		}
	}
}

func (d *decoder) checkFile(f *File, n *yaml.Node) {
	if len(f.Profiles) == 0 && len(f.Fleets) == 0 && !d.bad[n] {
		d.errorf(n, "the file defines no profiles and no fleets; give `profiles:` and/or `fleets:`")
	}
	profiles := map[string]bool{}
	for _, p := range f.Profiles {
		if profiles[p.Name] {
			d.errorf(&yaml.Node{Line: p.At.Line, Column: p.At.Column}, "two profiles are named `%s`; names must be unique in a file", p.Name)
		}
		profiles[p.Name] = true
	}
	fleets := map[string]bool{}
	for _, fl := range f.Fleets {
		name := cmp.Or(fl.Name, fl.Profile)
		if fleets[name] {
			d.errorf(&yaml.Node{Line: fl.At.Line, Column: fl.At.Column}, "two fleets are named `%s` (a fleet's name defaults to its profile's); give this one a `name`", name)
		}
		fleets[name] = true
	}
}

// entry is the value node of key in a mapping node, or the mapping itself
// when it has none (so errors still point near the problem).
func entry(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if resolve(n.Content[i]).Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return n
}

// keyOf is the key node of key in a mapping node, or the mapping itself.
func keyOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if resolve(n.Content[i]).Value == key {
			return resolve(n.Content[i])
		}
	}
	return n
}
