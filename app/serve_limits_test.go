package app

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

func TestServeLimitFlagErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"keepalive too long", []string{"--max-keepalive", "70000"}, "--max-keepalive 70000: give seconds from 0"},
		{"keepalive negative", []string{"--max-keepalive", "-1"}, "--max-keepalive -1"},
		{"packet size not a size", []string{"--max-packet-size", "big"}, `--max-packet-size: size "big"`},
		{"packet size too small", []string{"--max-packet-size", "10"}, "--max-packet-size 10 bytes: give a size from 64 bytes"},
		{"packet size over MQTT's", []string{"--max-packet-size", "1GB"}, "--max-packet-size 1GB: MQTT packets are at most 256MiB"},
		{"connect timeout zero", []string{"--connect-timeout", "0"}, "--connect-timeout 0s: give a positive duration"},
		{"connect timeout too short", []string{"--connect-timeout", "10ms"}, "--connect-timeout 10ms: give a duration from 100ms to 1h"},
		{"connect timeout not a duration", []string{"--connect-timeout", "10"}, "invalid value \"10\" for flag --connect-timeout"},
		{"max connections negative", []string{"--max-connections", "-5"}, "--max-connections -5: give a positive number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--no-capture", "--data", dir}, tc.args...)
			code, _, stderr := runInProcess(args, "")
			if code != 2 || !bytes.Contains([]byte(stderr), []byte(tc.want)) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tc.want)
			}
		})
	}
}

// --max-keepalive caps an MQTT 5 client's keep alive and says so in
// CONNACK's Server Keep Alive.
func TestServeMaxKeepAliveFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--no-capture", "--data", t.TempDir(),
		"--max-keepalive", "20", "--max-packet-size", "64KiB", "--connect-timeout", "5s", "--max-connections", "50")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing; stderr: %s", stderr.String())
	}
	m := listeningLine.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("unexpected stdout line %q; stderr: %s", lines.Text(), stderr.String())
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+m[2], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: "ka", KeepAlive: 600, CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	if ack.Properties == nil || ack.Properties.ServerKeepAlive == nil || *ack.Properties.ServerKeepAlive != 20 {
		t.Fatalf("CONNACK properties %+v: want Server Keep Alive 20", ack.Properties)
	}
	if ack.Properties.MaximumPacketSize == nil || *ack.Properties.MaximumPacketSize != 64<<10 {
		t.Fatalf("CONNACK properties %+v: want Maximum Packet Size 65536", ack.Properties)
	}
}
