package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

const connectUsage = `usage: iotstudio connect --url URL [--protocol auto|5|3.1.1] [--client-id ID] [--user NAME] [--ca FILE]
                         [--cert FILE --key FILE] [--insecure] [--clean-start=false] [--session-expiry DURATION]
                         [--sub FILTER]... [--qos N]
       iotstudio connect --profile NAME [--data DIR] [--sub FILTER]... [--qos N]
                         [--pub TOPIC --message TEXT [--retain]] [--count N] [--wait DURATION]
                         [--format text|jsonl] [--capture [--data DIR]]
connect opens a connection to any MQTT broker, as the app's connections do: it subscribes to each --sub,
publishes --message to --pub once connected, prints what arrives (topic and payload, or JSON Lines) until
--count messages arrived, --wait passed or Ctrl-C, and with --capture records them in DATA/capture with the
connection's host as their source. The password for --user is read from $` + replayPasswordEnv + `.
The protocol is automatic by default: MQTT 5, or 3.1.1 when the broker hangs up on MQTT 5 (ActiveMQ, RabbitMQ
before 3.13); connect says which it used, and when the connection is lost (and why) and back.
--clean-start=false with --client-id ID resumes the broker's session for ID: what was published to its
subscriptions while away arrives (MQTT 5 keeps the session --session-expiry after a disconnect).
--profile connects with a saved connection (see iotstudio connections) and records under its name; its secrets
come from $` + replayPasswordEnv + `, $` + azureKeyEnv + ` and $` + passphraseEnv + ` when set, else from the OS keyring.`

// Environment variables for a saved profile's secrets, for machines
// without a keyring (CI, servers).
const (
	azureKeyEnv   = "IOTSTUDIO_AZURE_DEVICE_KEY"
	passphraseEnv = "IOTSTUDIO_KEY_PASSPHRASE"
)

// connectMessageBuffer bounds the messages waiting to be printed; beyond
// it they are counted as dropped (the connection must never wait for the
// terminal).
const connectMessageBuffer = 4096

func runConnect(args []string, e env) error {
	fs := newFlagSet("connect", e)
	dial := addDialFlags(fs, client.ProtocolAuto)
	var subs listFlag
	fs.Var(&subs, "sub", "subscribe to `FILTER` (repeatable)")
	qos := fs.Int("qos", 0, "QoS `N` for --sub and --pub")
	pub := fs.String("pub", "", "publish --message to `TOPIC` once connected")
	text := fs.String("message", "", "the payload `TEXT` for --pub")
	retain := fs.Bool("retain", false, "publish --message as a retained message")
	count := fs.Int("count", 0, "stop after `N` messages arrived (0: no limit)")
	wait := fs.Duration("wait", 0, "stop after `DURATION` (0: run until Ctrl-C, or until the publish is done when there is no --sub)")
	format := fs.String("format", "text", "how to print messages: `text` (topic and payload) or jsonl (lossless)")
	captureOn := fs.Bool("capture", false, "also record the messages in DATA/capture")
	data := fs.String("data", "", "data `DIR` for --capture and --profile (default: the user config dir)")
	profile := fs.String("profile", "", "connect with the saved connection `NAME` instead of --url and its flags")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var (
		p     client.Profile
		creds client.Credentials
		err   error
	)
	if *profile != "" {
		if conflict := profileConflict(fs); conflict != "" {
			return usagef("connect: --profile and --%s: the profile says where and how to connect; give one or the other", conflict)
		}
		p, creds, err = savedProfile(*data, *profile)
	} else {
		p, creds, err = dial.profile()
	}
	if err != nil {
		return err
	}
	switch {
	case *qos < 0 || *qos > 2:
		return usagef("--qos %d: use 0, 1 or 2", *qos)
	case *format != "text" && *format != "jsonl":
		return usagef("--format %q: use text or jsonl", *format)
	case *pub == "" && len(subs) == 0:
		return usagef("connect: nothing to do; give --sub FILTER to receive or --pub TOPIC to publish\n%s", connectUsage)
	case *pub != "" && !validTopicName(*pub):
		return usagef("--pub %q: a topic name has no wildcards (+, #) and no NUL", *pub)
	}
	for _, f := range subs {
		if err := message.ValidateFilter(f); err != nil {
			return usagef("--sub: %v", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *wait)
		defer cancel()
	}

	// The library's own logging would interleave with the messages; what
	// matters reaches stderr as plain lines below.
	quiet := slog.New(slog.DiscardHandler)
	out := &printRecorder{ch: make(chan message.Message, connectMessageBuffer)}
	// Only an open store joins the Tee: a nil *capture.Store would be a
	// sink that panics on the first message.
	sinks := []message.Sink{out}
	if *captureOn {
		dir, err := dataDir(*data)
		if err != nil {
			return err
		}
		store, err := capture.Open(captureDir(dir), capture.Options{})
		if err != nil {
			return err
		}
		defer closeCapture(store, quiet)
		// Not again the retained messages a reconnect brings back.
		sinks = append(sinks, client.NewRepeatFilter(store))
	}
	mgr := client.NewManager(message.NewTee(sinks...), client.Options{Logger: quiet})
	defer mgr.CloseAll(context.Background())
	// The command subscribes to its --sub filters and nothing else, not
	// to what a saved profile subscribes to on connect.
	p.Subscribe = nil
	conn, err := mgr.Open(p, creds)
	if err != nil {
		return usageError{err}
	}
	if err := awaitConnected(ctx, mgr, conn, e.stderr); err != nil {
		return err
	}
	st := conn.Status()
	fmt.Fprintf(e.stderr, "connected to %s as %s (%s)\n", p.URL, st.ClientID, protocolWords(st))
	// From here the link watcher writes to stderr too.
	stderr := &lockedWriter{w: e.stderr}
	linkCtx, stopLink := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Go(func() { reportLink(linkCtx, mgr, conn, st, stderr) })
	defer func() { stopLink(); watching.Wait() }()
	if err := connectSubscribe(ctx, conn, subs, byte(*qos), stderr); err != nil {
		return err
	}
	if *pub != "" {
		m := client.Message{Topic: *pub, Payload: []byte(*text), QoS: byte(*qos), Retain: *retain}
		if err := conn.Publish(ctx, m); err != nil {
			return fmt.Errorf("connect: publish to %s: %w", *pub, err)
		}
		fmt.Fprintf(stderr, "published %d bytes to %s\n", len(m.Payload), *pub)
		if len(subs) == 0 {
			return nil
		}
	}
	n, err := printMessages(ctx, out, *count, *format, e.stdout)
	if dropped := out.dropped.Load(); dropped > 0 {
		fmt.Fprintf(stderr, "%d messages arrived faster than they could be printed and were not printed\n", dropped)
	}
	fmt.Fprintf(stderr, "received %s\n", numfmt.Plural(n, "message", "messages"))
	return err
}

// protocolWords is "MQTT 5", with ", chosen automatically" when it was.
func protocolWords(st client.Status) string {
	if st.AutoProtocol {
		return fmt.Sprintf("MQTT %s, chosen automatically", st.Protocol)
	}
	return "MQTT " + string(st.Protocol)
}

// lockedWriter lets the link reports and the command share stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lossReasonWait bounds how long a lost connection's report waits for its
// reason: MQTT 5 may report that the link broke just before why.
const lossReasonWait = 2 * time.Second

// reportLink prints to w when conn loses its connection (with the
// reason) and when it is back, until ctx ends. up is the status connect
// reported as connected.
func reportLink(ctx context.Context, mgr *client.Manager, conn *client.Connection, up client.Status, w io.Writer) {
	changed, stop := mgr.Watch()
	defer stop()
	r := linkReport{w: w, upSince: up.Since}
	var reasonTimeout <-chan time.Time
	for {
		if r.see(conn.Status()) && reasonTimeout == nil {
			reasonTimeout = time.After(lossReasonWait)
		}
		select {
		case <-changed:
		case <-reasonTimeout:
			if r.lostPending {
				r.lost(conn.Status().URL, nil)
			}
		case <-ctx.Done():
			return
		}
		if !r.lostPending {
			reasonTimeout = nil
		}
	}
}

// linkReport turns a connection's successive statuses into the lines
// connect prints about its link. Statuses are samples: a loss and a
// reconnect may both happen between two of them, which a new Since of the
// connected state gives away.
type linkReport struct {
	w           io.Writer
	upSince     time.Time // Since of the connected state last seen; zero while down
	lostPending bool      // down, and the loss not printed yet
}

// see prints what st shows changed, and reports whether a loss waits for
// its reason.
func (r *linkReport) see(st client.Status) bool {
	switch st.State {
	case client.StateConnected:
		if st.Since.Equal(r.upSince) {
			return false
		}
		if !r.upSince.IsZero() || r.lostPending {
			r.lost(st.URL, nil) // down and up again between two samples, or no reason came
		}
		r.upSince = st.Since
		fmt.Fprintf(r.w, "reconnected to %s (%s)\n", st.URL, protocolWords(st))
	case client.StateConnecting, client.StateReconnecting:
		if !r.upSince.IsZero() {
			r.upSince, r.lostPending = time.Time{}, true
		}
		if r.lostPending && st.LostReason != nil {
			r.lost(st.URL, st.LostReason)
		}
	}
	return r.lostPending
}

// lost prints the loss, with why when known.
func (r *linkReport) lost(url string, why error) {
	if why != nil {
		fmt.Fprintf(r.w, "connection lost: %v; reconnecting\n", why)
	} else {
		fmt.Fprintf(r.w, "connection lost: %s; reconnecting\n", url)
	}
	r.lostPending = false
}

// profileConflict names a flag given with --profile that the profile
// decides, or returns "".
func profileConflict(fs *flag.FlagSet) string {
	conflict := ""
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "url", "protocol", "client-id", "user", "ca", "cert", "key", "insecure", "clean-start", "session-expiry":
			conflict = f.Name
		}
	})
	return conflict
}

// savedProfile loads the profile named name from the data dir, with its
// secrets from the environment or the keyring.
func savedProfile(data, name string) (client.Profile, client.Credentials, error) {
	_, ps, err := profilesIn(data)
	if err != nil {
		return client.Profile{}, client.Credentials{}, err
	}
	i := slices.IndexFunc(ps, func(p client.Profile) bool { return p.Name == name })
	if i < 0 {
		return client.Profile{}, client.Credentials{}, usagef("--profile: no saved connection named %q (see: iotstudio connections list)", name)
	}
	p := ps[i]
	env := map[client.SecretKind]string{client.SecretPassword: replayPasswordEnv, client.SecretAzureDeviceKey: azureKeyEnv, client.SecretKeyPassphrase: passphraseEnv}
	given := map[client.SecretKind]string{}
	for kind, name := range env {
		if v, ok := os.LookupEnv(name); ok {
			given[kind] = v
		}
	}
	secrets := client.NewSecrets(connectionsKeyring)
	for kind, v := range given {
		secrets.KeepForSession(p.ID, kind, v)
	}
	creds, err := secrets.Credentials(p)
	if err != nil {
		return p, creds, usagef("--profile %s: %v; set it in $%s", name, err, missingSecretEnv(err, env))
	}
	return p, creds, nil
}

// missingSecretEnv names the environment variable for the secret err
// says is missing.
func missingSecretEnv(err error, env map[client.SecretKind]string) string {
	for kind, name := range env {
		if strings.Contains(err.Error(), string(kind)) {
			return name
		}
	}
	return replayPasswordEnv
}

// dialFlags say how to reach a broker; connect, saved publish and
// simulate run share them.
type dialFlags struct {
	url, protocol, clientID, user, ca, cert, key *string
	insecure                                     *bool
	session                                      sessionFlags
}

// addDialFlags adds them with proto as the default protocol.
func addDialFlags(fs *flag.FlagSet, proto client.Protocol) dialFlags {
	versions := "auto (MQTT 5, or 3.1.1 when the broker speaks only that), 5 or 3.1.1"
	if proto != client.ProtocolAuto {
		versions = "5 or 3.1.1"
	}
	return dialFlags{
		url:      fs.String("url", "", "broker `URL`: mqtt://, mqtts://, ws:// or wss://"),
		protocol: fs.String("protocol", string(proto), "MQTT `VERSION`: "+versions),
		clientID: fs.String("client-id", "", "client `ID` (default: a unique one)"),
		user:     fs.String("user", "", "log in as `NAME`; the password is read from $"+replayPasswordEnv),
		ca:       fs.String("ca", "", "trust the CA certificates in `FILE` (PEM) instead of the system's"),
		cert:     fs.String("cert", "", "client certificate `FILE` (PEM)"),
		key:      fs.String("key", "", "client private key `FILE` (PEM, unencrypted)"),
		insecure: fs.Bool("insecure", false, "do not check the broker's certificate (anyone in between can read and change the traffic)"),
		session:  addSessionFlags(fs),
	}
}

// sessionFlags ask the broker to keep a session; connect and connections
// add share them.
type sessionFlags struct {
	cleanStart *bool
	expiry     *time.Duration
}

func addSessionFlags(fs *flag.FlagSet) sessionFlags {
	return sessionFlags{
		cleanStart: fs.Bool("clean-start", true, "start without the broker's session; --clean-start=false resumes it (needs --client-id)"),
		expiry:     fs.Duration("session-expiry", 0, "MQTT 5: how long the broker keeps the session after a disconnect (`DURATION`, e.g. 1h; 0: not at all)"),
	}
}

// apply sets p's session fields; p.Validate checks the rest.
func (s sessionFlags) apply(p *client.Profile) error {
	const most = time.Duration(math.MaxUint32) * time.Second
	if *s.expiry < 0 || *s.expiry > most {
		return usagef("--session-expiry %s: give a duration from 0 to %s (about 136 years), e.g. 1h", *s.expiry, most)
	}
	p.CleanStart = *s.cleanStart
	p.SessionExpiry = uint32(s.expiry.Seconds())
	return nil
}

// parseProtocol reads a --protocol value.
func parseProtocol(v string) (client.Protocol, error) {
	switch v {
	case "auto", "automatic":
		return client.ProtocolAuto, nil
	case "5":
		return client.MQTT5, nil
	case "3.1.1", "4", "311":
		return client.MQTT311, nil
	}
	return "", usagef("--protocol %q: use auto, 5 or 3.1.1", v)
}

// profile builds the connection profile the flags describe, and its
// password from the environment when --user is given. It subscribes to
// nothing on connect: these commands subscribe (or not) themselves.
func (d dialFlags) profile() (client.Profile, client.Credentials, error) {
	var creds client.Credentials
	if *d.url == "" {
		return client.Profile{}, creds, usagef("connect: --url URL is required, e.g. --url mqtt://127.0.0.1:1883\n%s", connectUsage)
	}
	p, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: brokerSource(*d.url), Host: *d.url})
	if err != nil {
		return p, creds, usagef("--url: %v", err)
	}
	p.Subscribe = nil
	if p.Protocol, err = parseProtocol(*d.protocol); err != nil {
		return p, creds, err
	}
	if err := d.session.apply(&p); err != nil {
		return p, creds, err
	}
	p.ClientID, p.Username, p.HasPassword = *d.clientID, *d.user, *d.user != ""
	p.TLS.CAFile, p.TLS.CertFile, p.TLS.KeyFile, p.TLS.Insecure = *d.ca, *d.cert, *d.key, *d.insecure
	if err := p.Validate(); err != nil {
		return p, creds, usageError{err}
	}
	if *d.user != "" {
		creds.Password = os.Getenv(replayPasswordEnv)
	}
	return p, creds, nil
}

// awaitConnected waits for the first attempt's outcome: connect reports a
// refusal at once instead of retrying in silence.
func awaitConnected(ctx context.Context, mgr *client.Manager, conn *client.Connection, stderr io.Writer) error {
	changed, stop := mgr.Watch()
	defer stop()
	for {
		st := conn.Status()
		switch st.State {
		case client.StateConnected:
			return nil
		case client.StateReconnecting, client.StateDisconnected:
			if st.LastError != nil {
				return fmt.Errorf("connect: %w", st.LastError)
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("connect: %s: no answer before %w", st.URL, context.Cause(ctx))
		}
	}
}

func connectSubscribe(ctx context.Context, conn *client.Connection, filters []string, qos byte, stderr io.Writer) error {
	if len(filters) == 0 {
		return nil
	}
	subs := make([]client.Subscription, len(filters))
	for i, f := range filters {
		subs[i] = client.Subscription{Filter: f, QoS: qos}
	}
	res, err := conn.Subscribe(ctx, subs...)
	if err != nil {
		return fmt.Errorf("connect: subscribe: %w", err)
	}
	refused := 0
	for _, r := range res {
		if r.Refused {
			refused++
			fmt.Fprintf(stderr, "subscription to %s refused: %s\n", r.Filter, r.Reason)
		} else {
			fmt.Fprintf(stderr, "subscribed to %s (QoS %d granted)\n", r.Filter, r.Granted)
		}
	}
	if refused == len(res) {
		return errors.New("connect: the broker refused every subscription")
	}
	return nil
}

// printRecorder hands received messages to the printing loop without ever
// blocking the connection.
type printRecorder struct {
	ch      chan message.Message
	dropped atomic.Int64
}

func (p *printRecorder) Ingest(r message.Message) bool {
	select {
	case p.ch <- r:
		return true
	default:
		p.dropped.Add(1)
		return false
	}
}

func printMessages(ctx context.Context, in *printRecorder, limit int, format string, w io.Writer) (int, error) {
	var jw *capture.JSONLWriter
	if format == "jsonl" {
		jw = capture.NewJSONLWriter(w)
		defer jw.Flush()
	}
	n := 0
	for limit == 0 || n < limit {
		select {
		case r := <-in.ch:
			n++
			var err error
			if jw != nil {
				err = jw.Write(r)
				if len(in.ch) == 0 {
					err = errors.Join(err, jw.Flush())
				}
			} else {
				_, err = fmt.Fprintf(w, "%s %s\n", r.Topic, printablePayload(r.Payload))
			}
			if err != nil {
				return n, fmt.Errorf("connect: print: %w", err)
			}
		case <-ctx.Done():
			return n, nil // --wait or Ctrl-C ended it, as the help says to
		}
	}
	return n, nil
}

// printablePayload shows text as it is and anything else as a quoted Go
// string, so binary never garbles the terminal.
func printablePayload(b []byte) string {
	if utf8.Valid(b) {
		ok := true
		for _, c := range b {
			if c < 0x20 && c != '\t' {
				ok = false
				break
			}
		}
		if ok {
			return string(b)
		}
	}
	return strconv.Quote(string(b))
}

// validTopicName reports whether a broker must accept topic as the topic
// of a PUBLISH; the warnings (legal but surprising topics) do not stop
// the command.
func validTopicName(topic string) bool {
	_, err := message.ValidateTopicName(topic)
	return err == nil
}
