package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

func TestServeBridgeFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := client.NewStore(dir).Save([]client.Profile{{ID: "p1", Name: "Site", URL: "mqtt://127.0.0.1:1", Protocol: client.MQTT5}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "bridges.yaml")
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown direction", "bridges:\n  - name: b\n    connection: Site\n    rules:\n      - direction: up\n        local: a/#\n        remote: b/#\n",
			file + `:5: bridge "b": unknown direction "up": give out (local to remote), in (remote to local) or both`},
		{"unknown connection", "bridges:\n  - name: b\n    connection: Elsewhere\n    rules:\n      - direction: out\n        local: a/#\n        remote: b/#\n",
			file + `:3: no saved connection is named "Elsewhere"; the saved ones are "Site"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runInProcess([]string{"serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--no-capture", "--data", dir, "--bridge", file}, "")
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 with %q", code, stderr, tc.want)
			}
		})
	}
}

// serve --bridge forwards what a local client publishes to a mosquitto,
// and the bridge stops before the broker on SIGTERM.
func TestServeBridgeForwardsToMosquitto(t *testing.T) {
	remoteAddr := mosquittopeer.Start(t, "").Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := make(chan *paho.Publish, 10)
	conn, err := net.Dial("tcp", remoteAddr)
	if err != nil {
		t.Fatal(err)
	}
	sub := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) { got <- pr.Packet; return true, nil },
	}})
	if _, err := sub.Connect(ctx, &paho.Connect{ClientID: "remote-sub", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "site1/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir()
	if err := client.NewStore(data).Save([]client.Profile{{ID: "p1", Name: "Site", URL: "mqtt://" + remoteAddr, Protocol: client.MQTT5, CleanStart: true}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, "bridges.yaml")
	yaml := "bridges:\n  - name: site1\n    connection: Site\n    rules:\n      - direction: out\n        local: plant/#\n        remote: site1/plant/#\n        qos: 1\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--no-capture", "--data", data, "--bridge", file)
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
	lines := bufio.NewScanner(stdout)
	var mqttAddr string
	for mqttAddr == "" && lines.Scan() {
		if m := listeningLine.FindStringSubmatch(lines.Text()); m != nil && m[1] == "mqtt" {
			mqttAddr = "127.0.0.1:" + m[2]
		}
	}
	if mqttAddr == "" {
		t.Fatalf("no mqtt listener printed; stderr: %s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	conn, err = net.Dial("tcp", mqttAddr)
	if err != nil {
		t.Fatal(err)
	}
	pub := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := pub.Connect(ctx, &paho.Connect{ClientID: "sensor", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	// Published before the bridge may be up: it waits in the queue.
	if _, err := pub.Publish(ctx, &paho.Publish{Topic: "plant/temp", QoS: 1, Payload: []byte("21")}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p.Topic != "site1/plant/temp" || string(p.Payload) != "21" {
			t.Fatalf("remote got %s %q", p.Topic, p.Payload)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("nothing reached the remote; serve's stderr: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v; stderr: %s", err, stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, "bridge stopped") || !strings.Contains(s, "forwarded_out=1") {
		t.Errorf("serve did not log the bridge's counts at shutdown: %s", s)
	}
}
