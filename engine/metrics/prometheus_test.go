package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// A real Prometheus (Debian's prometheus package) scrapes the engine and
// stores what was sent: the counts it answers through its HTTP API match
// the messages a real client published.
func TestPrometheusStoresWhatWasSent(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		// CI installs it (make test): there a missing Prometheus is a
		// failure, not a test quietly left out.
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus not installed (apt-get install prometheus), and CI is set")
		}
		t.Skip("prometheus not installed (apt-get install prometheus); TestScrapeFollowsTraffic checks the scrape itself")
	}
	s := startServed(t, true)
	api := startPrometheus(t, bin, strings.TrimSuffix(strings.TrimPrefix(s.metrics, "http://"), "/metrics"))

	const n = 40
	received := make(chan string, n)
	c := connect(t, s.mqtt, "prometheus-test", received)
	defer c.Disconnect(&paho.Disconnect{})
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "plant/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := c.Publish(ctx, &paho.Publish{Topic: "plant/line/" + strconv.Itoa(i%4), QoS: 1, Payload: []byte("7")}); err != nil {
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
	want := map[string]float64{
		`iotstudio_broker_messages_received_total{job="iotstudio",qos="1"}`: n,
		`iotstudio_broker_messages_sent_total{job="iotstudio",qos="1"}`:     n,
		`sum(iotstudio_broker_messages_received_total{job="iotstudio"})`:    n,
		`iotstudio_capture_records_ingested_total{job="iotstudio"}`:         n,
		`iotstudio_broker_clients_connected{job="iotstudio"}`:               1,
		`up{job="iotstudio"}`: 1,
		`sum(iotstudio_broker_messages_dropped_total{job="iotstudio"})`: 0,
	}
	testkit.WithinErr(t, 60*time.Second, "Prometheus to store the counts that were sent", func() error {
		for q, w := range want {
			got, err := queryPrometheus(api, q)
			if err != nil {
				return err
			}
			if got != w {
				return fmt.Errorf("Prometheus answers %s = %v, want %v", q, got, w)
			}
		}
		return nil
	})
}

// startPrometheus runs Prometheus on a free loopback port, scraping target
// every second, until the test ends; it returns its API's base URL.
func startPrometheus(t *testing.T, bin, target string) string {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"+
		"scrape_configs:\n  - job_name: iotstudio\n    static_configs: [{targets: [%q]}]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	// Prometheus cannot report a port 0 it was given: take a free one.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	var logs lockedLog
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	api := "http://" + addr
	testkit.WithinErr(t, 30*time.Second, "Prometheus to be ready", func() error {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(api + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return api
}

// queryPrometheus evaluates an instant query that yields one sample.
func queryPrometheus(api, query string) (float64, error) {
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("query %s: %w", query, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", query, body.Error)
	}
	if len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d series, want 1 (not scraped yet?)", query, len(body.Data.Result))
	}
	v, _ := body.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(v, 64)
}

// lockedLog collects a child's output, written from exec's copying
// goroutine and read by the test.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
