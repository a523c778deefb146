package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/metrics"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// served is an engine with its broker started and its metrics served on
// a free loopback port.
type served struct {
	eng     *studio.Studio
	mqtt    string // HOST:PORT
	metrics string // URL of /metrics
}

func startServed(t testing.TB, capturing bool) served {
	t.Helper()
	return startServedIn(t, t.TempDir(), capturing)
}

func startServedIn(t testing.TB, dataDir string, capturing bool) served {
	t.Helper()
	cfg := broker.DefaultConfig(dataDir)
	cfg.MQTTAddr, cfg.WSAddr, cfg.Logger = "127.0.0.1:0", "", testkit.Logger()
	eng, err := studio.Open(studio.Config{Broker: cfg, Capture: capturing, Journal: true, Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, eng.Serve)
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	srv, err := metrics.Listen(metrics.NewRegistry(eng.MetricsSources()), metrics.Options{Addr: "127.0.0.1:0", Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, srv.Run)
	return served{eng: eng, mqtt: eng.Broker.State().Listeners[0].Address, metrics: "http://" + srv.Addr() + metrics.Path}
}

// scrape fetches and parses the exposition, as Prometheus would.
func scrape(t *testing.T, url string) (raw []byte, families map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %s: %s", url, err, resp.Status, raw)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err = parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the exposition does not parse as the Prometheus text format: %v\n%s", err, raw)
	}
	return raw, families
}

// value is the sample of name whose labels include want ("" for none).
func value(t *testing.T, families map[string]*dto.MetricFamily, name, label, labelValue string) float64 {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("no metric %s in the scrape", name)
	}
	for _, m := range f.GetMetric() {
		if label != "" && !hasLabel(m, label, labelValue) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	t.Fatalf("metric %s has no sample with %s=%q", name, label, labelValue)
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func connect(t *testing.T, addr, id string, received chan<- string) *paho.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{Conn: conn}
	if received != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			received <- pr.Packet.Topic
			return true, nil
		}}
	}
	c := paho.NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	return c
}

// Traffic from a real client moves the counters a dashboard shows, read
// from an HTTP scrape: clients, connections, messages and bytes both ways,
// subscriptions, retained messages, refusals by reason and the capture's
// ingest.
func TestScrapeFollowsTraffic(t *testing.T) {
	s := startServed(t, true)
	_, before := scrape(t, s.metrics)
	if got := value(t, before, "iotstudio_broker_clients_connected", "", ""); got != 0 {
		t.Fatalf("clients connected before any client: %v", got)
	}

	const n = 25
	received := make(chan string, n)
	c := connect(t, s.mqtt, "metrics-test", received)
	defer c.Disconnect(&paho.Disconnect{})
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "plant/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// QoS 0, 1 and 2 in turn (9, 8 and 8 messages), to a QoS 1
		// subscription: QoS 2 is sent at 1.
		if _, err := c.Publish(ctx, &paho.Publish{Topic: fmt.Sprintf("plant/line%d", i), QoS: byte(i % 3), Retain: i == 0, Payload: []byte("21.5")}); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		select {
		case <-received:
		case <-ctx.Done():
			t.Fatal("the subscriber did not receive every message")
		}
	}
	// A connection that never sends CONNECT is refused before it.
	junk, err := net.Dial("tcp", s.mqtt)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = junk.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	_, _ = io.Copy(io.Discard, junk) // until the broker closes it
	junk.Close()

	checks := []struct {
		name, label, labelValue string
		min, max                float64
	}{
		{"iotstudio_broker_up", "", "", 1, 1},
		{"iotstudio_broker_clients_connected", "", "", 1, 1},
		{"iotstudio_broker_connections_total", "", "", 1, 1},
		{"iotstudio_broker_messages_received_total", "qos", "0", 9, 9},
		{"iotstudio_broker_messages_received_total", "qos", "1", 8, 8},
		{"iotstudio_broker_messages_received_total", "qos", "2", 8, 8},
		{"iotstudio_broker_messages_sent_total", "qos", "0", 9, 9},
		{"iotstudio_broker_messages_sent_total", "qos", "1", 16, 16},
		{"iotstudio_broker_messages_sent_total", "qos", "2", 0, 0},
		{"iotstudio_broker_payload_received_bytes_total", "qos", "1", 8 * 4, 8 * 4},
		{"iotstudio_broker_payload_sent_bytes_total", "qos", "1", 16 * 4, 16 * 4},
		{"iotstudio_broker_received_bytes_total", "", "", float64(n * len("plant/line0 21.5")), 1 << 20},
		{"iotstudio_broker_sent_bytes_total", "", "", float64(n * len("plant/line0 21.5")), 1 << 20},
		{"iotstudio_broker_subscriptions", "", "", 1, 1},
		{"iotstudio_broker_retained_messages", "", "", 1, 1},
		{"iotstudio_broker_connections_refused_total", "reason", "login", 0, 0},
		{"iotstudio_broker_messages_dropped_total", "cause", "queue_full", 0, 0},
		{"iotstudio_capture_up", "", "", 1, 1},
		{"iotstudio_journal_up", "", "", 1, 1},
		{"iotstudio_journal_events_dropped_total", "cause", "queue_full", 0, 0},
		{"iotstudio_capture_records_dropped_total", "cause", "full", 0, 0},
		{"go_goroutines", "", "", 1, 1e6},
		{"process_resident_memory_bytes", "", "", 1, 1 << 40},
	}
	testkit.EventuallyErr(t, "the scrape to show the traffic", func() error {
		_, after := scrape(t, s.metrics)
		if got := value(t, after, "iotstudio_capture_records_ingested_total", "", ""); got < n {
			return fmt.Errorf("capture ingested %v records, want at least %d", got, n)
		}
		if got := value(t, after, "iotstudio_broker_connections_refused_total", "reason", "before_connect"); got != 1 {
			return fmt.Errorf("refused before CONNECT %v, want 1", got)
		}
		// The client's connect and subscribe, journaled.
		if got := value(t, after, "iotstudio_journal_events", "", ""); got < 2 {
			return fmt.Errorf("the journal holds %v events, want at least 2", got)
		}
		// A counter is added to once its write returns: the subscriber
		// can have the message a moment before (CI measured 8 of 9).
		for _, c := range checks {
			if got := value(t, after, c.name, c.label, c.labelValue); got < c.min || got > c.max {
				return fmt.Errorf("%s{%s=%q} = %v, want from %v to %v", c.name, c.label, c.labelValue, got, c.min, c.max)
			}
		}
		return nil
	})
}

// promtool (Debian's prometheus package) lints the exposition: names,
// units, _total counters, HELP text.
func TestExpositionPassesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus); the exposition is still parsed by TestScrapeFollowsTraffic")
	}
	s := startServed(t, true)
	raw, _ := scrape(t, s.metrics)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestListenRefuses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name, addr string
		want       []string
	}{
		{"every interface without users", ":9464", []string{`metrics address :9464 is reachable from other machines`, "iotstudio users add NAME", "127.0.0.1:9464"}},
		{"a LAN address without users", "192.0.2.10:9464", []string{"metrics address 192.0.2.10:9464 is reachable from other machines"}},
		{"busy port", busy.Addr().String(), []string{"metrics listener: address " + busy.Addr().String() + " is already in use", "--metrics 127.0.0.1:0"}},
		{"not HOST:PORT", "9464", []string{`metrics address "9464" is not HOST:PORT`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := metrics.Listen(metrics.NewRegistry(metrics.Sources{}), metrics.Options{Addr: tc.addr})
			if err == nil {
				testkit.Serve(t, srv.Run)
				t.Fatalf("Listen(%s) succeeded on %s; want it refused", tc.addr, srv.Addr())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	var le *metrics.ListenError
	_, err = metrics.Listen(metrics.NewRegistry(metrics.Sources{}), metrics.Options{Addr: busy.Addr().String()})
	if !errors.As(err, &le) {
		t.Fatalf("a busy port gives %T, want *metrics.ListenError", err)
	}
}

// A stopped broker reads as down, its counters at zero, rather than
// failing the scrape.
func TestScrapeWhileBrokerStopped(t *testing.T) {
	s := startServed(t, false)
	if err := s.eng.Broker.Stop(); err != nil {
		t.Fatal(err)
	}
	_, fams := scrape(t, s.metrics)
	if got := value(t, fams, "iotstudio_broker_up", "", ""); got != 0 {
		t.Fatalf("iotstudio_broker_up %v after Stop, want 0", got)
	}
	if _, ok := fams["iotstudio_capture_up"]; ok {
		t.Fatal("capture metrics are served with capture off")
	}
}

// dashboardFile is the Grafana dashboard shipped for these metrics.
const dashboardFile = "../../packaging/grafana/iotstudio-dashboard.json"

var metricName = regexp.MustCompile(`\b(?:iotstudio|process|go)_[a-z0-9_]+`)

// The dashboard imports as is (a ${DS_PROMETHEUS} input, every panel on
// it) and queries only metrics a real scrape serves, so renaming a metric
// cannot leave its panel silently empty.
func TestDashboardUsesOnlyServedMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Inputs        []struct{ Name, PluginID string } `json:"__inputs"`
		SchemaVersion int                               `json:"schemaVersion"`
		Panels        []dashPanel                       `json:"panels"`
		Templating    struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if len(dash.Inputs) != 1 || dash.Inputs[0].Name != "DS_PROMETHEUS" || dash.Inputs[0].PluginID != "prometheus" {
		t.Fatalf("%s: __inputs %+v, want the one Prometheus input DS_PROMETHEUS", dashboardFile, dash.Inputs)
	}
	if dash.SchemaVersion < 39 {
		t.Fatalf("%s: schemaVersion %d, want 39 or later", dashboardFile, dash.SchemaVersion)
	}
	exprs := map[string]string{} // expression -> where
	for _, v := range dash.Templating.List {
		exprs[v.Definition] = "the template variable"
	}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q with %d queries; want ${DS_PROMETHEUS} and a query", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			exprs[q.Expr] = "panel " + strconv.Quote(p.Title)
		}
	}

	s := startServed(t, true)
	_, families := scrape(t, s.metrics)
	for expr, where := range exprs {
		names := metricName.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s queries %q, which names no iotstudio, process or go metric", where, expr)
		}
		for _, name := range names {
			if _, ok := families[name]; !ok {
				t.Errorf("%s queries %s, which /metrics does not serve", where, name)
			}
		}
	}
}

type dashPanel struct {
	Type, Title string
	Datasource  struct{ UID string }
	Targets     []struct{ Expr string }
}

// With users, an address beyond loopback passes the users rule and gets as
// far as binding (192.0.2.10, a documentation address, is nobody's here).
func TestListenBeyondLoopbackWithUsers(t *testing.T) {
	users := &auth.Users{}
	if err := users.SetPassword("prometheus", []byte("scrape-secret")); err != nil {
		t.Fatal(err)
	}
	srv, err := metrics.Listen(metrics.NewRegistry(metrics.Sources{}), metrics.Options{Addr: "192.0.2.10:9464", Users: users})
	if err == nil {
		testkit.Serve(t, srv.Run)
		t.Skip("this machine has 192.0.2.10; nothing to learn")
	}
	var le *metrics.ListenError
	if !errors.As(err, &le) {
		t.Fatalf("Listen beyond loopback with a user: %v; want it to pass the users rule and fail only to bind", err)
	}
}

// Refusals and ACL denials are counted by reason and packet: a wrong
// password, a SUBSCRIBE and a PUBLISH the user's ACL denies.
func TestScrapeCountsRefusals(t *testing.T) {
	dir := t.TempDir()
	users := &auth.Users{}
	if err := users.SetPassword("alice", []byte("right-password")); err != nil {
		t.Fatal(err)
	}
	users.Find("alice").ACL = []auth.Rule{{Filter: "secret/#", Access: auth.Deny}, {Filter: "#", Access: auth.ReadWrite}}
	if err := users.Save(filepath.Join(dir, "users.yaml")); err != nil {
		t.Fatal(err)
	}
	s := startServedIn(t, dir, false)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()

	login := func(password string) (*paho.Client, error) {
		conn, err := net.Dial("tcp", s.mqtt)
		if err != nil {
			t.Fatal(err)
		}
		c := paho.NewClient(paho.ClientConfig{Conn: conn})
		_, err = c.Connect(ctx, &paho.Connect{ClientID: "alice-1", CleanStart: true, KeepAlive: 30,
			Username: "alice", UsernameFlag: true, Password: []byte(password), PasswordFlag: true})
		return c, err
	}
	if _, err := login("wrong-password"); err == nil {
		t.Fatal("a wrong password connected")
	}
	c, err := login("right-password")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	// The broker answers both with a refusal; what counts here is the count.
	_, _ = c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "secret/#", QoS: 1}}})
	_, _ = c.Publish(ctx, &paho.Publish{Topic: "secret/door", QoS: 1, Payload: []byte("open")})

	testkit.EventuallyErr(t, "the scrape to count the refusals", func() error {
		_, fams := scrape(t, s.metrics)
		for _, w := range []struct{ name, label, value string }{
			{"iotstudio_broker_connections_refused_total", "reason", "login"},
			{"iotstudio_broker_acl_denied_total", "packet", "subscribe"},
			{"iotstudio_broker_acl_denied_total", "packet", "publish"},
			{"iotstudio_broker_connections_total", "", ""},
		} {
			if got := value(t, fams, w.name, w.label, w.value); got != 1 {
				return fmt.Errorf("%s{%s=%q} = %v, want 1", w.name, w.label, w.value, got)
			}
		}
		return nil
	})
}
