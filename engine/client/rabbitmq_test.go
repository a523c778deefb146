//go:build unix

// The peers here are Debian's packages, started as a process group that
// the test kills whole.

package client

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// RabbitMQ 3.10 (Debian 12) speaks MQTT 3.1.1 only, through its MQTT
// plugin: the peer for profiles that must use paho.mqtt.golang. It takes
// about 10 s to start, so one broker serves every case here.

const rabbitServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

func TestRabbitMQ311OnlyPeer(t *testing.T) {
	url := startRabbitMQ(t)

	t.Run("3.1.1 publishes and subscribes", func(t *testing.T) {
		rec := newRecorder()
		_, c := open(t, rec, profile("rabbit", url, MQTT311), Credentials{})
		waitState(t, c, StateConnected, 15*time.Second)
		// RabbitMQ grants at most QoS 1: the answer must say so rather
		// than pretend QoS 2 was granted.
		res, err := c.Subscribe(t.Context(), Subscription{Filter: "rabbit/#", QoS: 2})
		if err != nil || len(res) != 1 || res[0].Refused || res[0].Granted != 1 {
			t.Fatalf("subscribe: %+v %v; want granted QoS 1", res, err)
		}
		for qos := range byte(2) {
			topic := fmt.Sprintf("rabbit/q%d", qos)
			if err := c.Publish(t.Context(), Message{Topic: topic, Payload: []byte{0, 0xff, byte(qos)}, QoS: qos}); err != nil {
				t.Fatalf("publish QoS %d: %v", qos, err)
			}
			if r := rec.next(t, topic); string(r.Payload) != string([]byte{0, 0xff, qos}) || r.Protocol != 4 {
				t.Errorf("QoS %d: got %+v", qos, r)
			}
		}
	})

	t.Run("the automatic protocol chooses 3.1.1", func(t *testing.T) {
		rec := newRecorder()
		_, c := open(t, rec, profile("rabbit-auto", url, ProtocolAuto), Credentials{})
		st := waitState(t, c, StateConnected, 20*time.Second)
		if st.Protocol != MQTT311 || !st.AutoProtocol {
			t.Fatalf("protocol %q (automatic %v); want 3.1.1 chosen automatically", st.Protocol, st.AutoProtocol)
		}
		roundTrip(t, c, rec, "rabbit/auto")
	})

	t.Run("MQTT 5 is refused in words", func(t *testing.T) {
		_, c := open(t, newRecorder(), profile("rabbit-v5", url, MQTT5), Credentials{})
		ce := waitError(t, c)
		if !strings.Contains(ce.Error(), "3.1.1") {
			t.Errorf("got kind %d %q; want advice to use MQTT 3.1.1", ce.Kind, ce)
		}
	})
}

// startRabbitMQ runs a private RabbitMQ node with the MQTT plugin on
// loopback ports (its own epmd too, so nothing outlives the test) and
// returns its MQTT URL.
func startRabbitMQ(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(rabbitServer); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rabbitmq-server is not installed; .ci/run installs it")
		}
		t.Skip("rabbitmq-server not installed: apt-get install rabbitmq-server (about 10 s to start)")
	}
	dir := t.TempDir()
	mqttPort, amqpPort, distPort, epmdPort := testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t)
	conf := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d\nmqtt.listeners.tcp.default = 127.0.0.1:%d\nmqtt.allow_anonymous = true\nloopback_users = none\n", amqpPort, mqttPort)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("rabbit.conf", conf)
	write("enabled_plugins", "[rabbitmq_mqtt].\n")

	cmd := exec.Command(rabbitServer)
	cmd.Env = append(os.Environ(),
		"HOME="+dir, // the Erlang cookie
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbit"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_NODENAME=iotstudio-test-"+strconv.Itoa(mqttPort)+"@localhost",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(amqpPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(distPort),
		"ERL_EPMD_PORT="+strconv.Itoa(epmdPort),
	)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group: the script starts beam.smp and epmd, which
	// must die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if epmd, err := exec.LookPath("epmd"); err == nil {
			_ = exec.Command(epmd, "-port", strconv.Itoa(epmdPort), "-kill").Run()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !portOpen(mqttPort) {
		select {
		case <-exited:
			t.Fatalf("rabbitmq-server exited at start: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rabbitmq-server did not open its MQTT port in 60 s: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return mqttURL(mqttPort)
}

func portOpen(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
