package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// simulate run --metrics serves the fleets' own figures, so a dashboard
// sees the simulated devices beside the broker they load.
func TestSimulateRunServesFleetMetrics(t *testing.T) {
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, "simulate", "run", "builtin:thermostat", "--count", "3", "--url", "mqtt://"+b.Addr,
		"--stats", "0", "--metrics", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`^metrics listening on (\S+)$`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a + "/metrics"
	case <-ctx.Done():
		t.Fatal("simulate run did not print where its metrics are")
	}
	testkit.EventuallyErr(t, "the scrape to count the thermostats and what they sent", func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`iotstudio_sim_devices{fleet="thermostat"} 3`,
			`iotstudio_sim_devices_connected{fleet="thermostat"} 3`,
			`iotstudio_sim_errors_total{fleet="thermostat"} 0`,
		} {
			if !strings.Contains(string(body), want+"\n") {
				return fmt.Errorf("the scrape lacks %q", want)
			}
		}
		if !regexp.MustCompile(`iotstudio_sim_messages_sent_total\{fleet="thermostat"\} [1-9]`).Match(body) {
			return fmt.Errorf("no message counted as sent")
		}
		return nil
	})
}

func TestSimulateRunRefusesMetricsBeyondLoopback(t *testing.T) {
	code, _, stderr := runInProcess([]string{"simulate", "run", "builtin:thermostat", "--url", "mqtt://127.0.0.1:1", "--metrics", ":9464", "--duration", "1s"}, "")
	if code != 2 || !strings.Contains(stderr, "--metrics") {
		t.Fatalf("exit %d, stderr %q: want status 2 and a --metrics error", code, stderr)
	}
}
