package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

var metricsLine = regexp.MustCompile(`^metrics listening on (127\.0\.0\.1:\d+)$`)

// serve --metrics prints the metrics address beside the listeners, and a
// scrape there counts what a real client did.
func TestServeMetricsFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--data", t.TempDir(), "--metrics", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var mqttAddr, metricsAddr string
	lines := bufio.NewScanner(stdout)
	for (mqttAddr == "" || metricsAddr == "") && lines.Scan() {
		if m := listeningLine.FindStringSubmatch(lines.Text()); m != nil && m[1] == "mqtt" {
			mqttAddr = "127.0.0.1:" + m[2]
		}
		if m := metricsLine.FindStringSubmatch(lines.Text()); m != nil {
			metricsAddr = m[1]
		}
	}
	if mqttAddr == "" || metricsAddr == "" {
		t.Fatalf("serve did not print both addresses (mqtt %q, metrics %q); stderr: %s", mqttAddr, metricsAddr, stderr.String())
	}
	go io.Copy(io.Discard, stdout)

	conn, err := net.Dial("tcp", mqttAddr)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "sensor-1", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		if _, err := c.Publish(ctx, &paho.Publish{Topic: "plant/temp", QoS: 1, Payload: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.EventuallyErr(t, "the scrape to count the client and its messages", func() error {
		body, err := get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return err
		}
		for _, want := range []string{
			"\niotstudio_broker_clients_connected 1\n",
			fmt.Sprintf("\niotstudio_broker_messages_received_total{qos=\"1\"} %d\n", n),
			fmt.Sprintf("\niotstudio_capture_records_ingested_total %d\n", n),
		} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("the scrape lacks %q", strings.TrimSpace(want))
			}
		}
		return nil
	})
	_ = c.Disconnect(&paho.Disconnect{})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve with --metrics did not stop cleanly on SIGTERM: %v; stderr: %s", err, stderr.String())
	}
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), err
}

// A --metrics address serve cannot or must not use stops it with exit
// status 2 and says why, as a bad listener address does.
func TestServeMetricsFlagErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name, addr, want string
	}{
		{"beyond loopback without users", "0.0.0.0:9464", "metrics address 0.0.0.0:9464 is reachable from other machines, but the broker has no users"},
		{"busy port", busy.Addr().String(), "metrics listener: address " + busy.Addr().String() + " is already in use"},
		{"not an address", "9464", `metrics address "9464" is not HOST:PORT`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess([]string{"serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--no-capture",
				"--data", t.TempDir(), "--metrics", tc.addr}, "")
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
			// Refused before the broker starts: no client was let in.
			if stdout != "" {
				t.Fatalf("serve announced %q before refusing its metrics address", stdout)
			}
		})
	}
}
