//go:build unix

// The peers here are Debian's packages, started as a process group that
// the test kills whole.

package client

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// ActiveMQ Classic 5.17 (Debian's activemq) speaks MQTT 3.1.1 only and,
// unlike RabbitMQ, answers an MQTT 5 CONNECT with a 3.1.1 CONNACK that
// refuses the protocol version. Debian's package lacks the MQTT codec
// its MQTT connector needs (libmqtt-client-java): without it the broker
// answers no CONNECT at all. Not in CI (Java): the test skips without
// them.

const (
	activemqJar  = "/usr/share/activemq/bin/activemq.jar"
	mqttCodecJar = "/usr/share/java/mqtt-client.jar"
)

func TestActiveMQ311OnlyPeer(t *testing.T) {
	url := startActiveMQ(t)

	t.Run("the automatic protocol chooses 3.1.1", func(t *testing.T) {
		rec := newRecorder()
		_, c := open(t, rec, profile("activemq-auto", url, ProtocolAuto), Credentials{})
		st := waitState(t, c, StateConnected, autoConnackWait+15*time.Second)
		if st.Protocol != MQTT311 || !st.AutoProtocol {
			t.Fatalf("protocol %q (automatic %v); want 3.1.1 chosen automatically", st.Protocol, st.AutoProtocol)
		}
		roundTrip(t, c, rec, "activemq/auto")
	})

	t.Run("MQTT 5 is refused in words", func(t *testing.T) {
		_, c := open(t, newRecorder(), profile("activemq-v5", url, MQTT5), Credentials{})
		if ce := waitError(t, c); ce.Kind != ErrBadProtocol || !strings.Contains(ce.Error(), "speaks only 3.1.1") {
			t.Errorf("got kind %d %q; want that the broker speaks only MQTT 3.1.1", ce.Kind, ce)
		}
	})
}

// startActiveMQ runs a private, non-persistent ActiveMQ with only an MQTT
// connector on a free loopback port and returns its URL.
func startActiveMQ(t *testing.T) string {
	t.Helper()
	java, err := exec.LookPath("java")
	_, amqErr := os.Stat(activemqJar)
	_, codecErr := os.Stat(mqttCodecJar)
	if err != nil || amqErr != nil || codecErr != nil {
		t.Skip("activemq not installed: apt-get install activemq libmqtt-client-java (about 5 s to start)")
	}
	dir := t.TempDir()
	// The broker's own lib directory is on its class path.
	if err := os.Mkdir(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mqttCodecJar, filepath.Join(dir, "lib", "mqtt-client.jar")); err != nil {
		t.Fatal(err)
	}
	port := testkit.FreePort(t)
	conf := fmt.Sprintf(`<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" persistent="false" brokerName="iotstudio-test" dataDirectory="%s/data">
    <transportConnectors>
      <transportConnector name="mqtt" uri="mqtt://127.0.0.1:%d"/>
    </transportConnectors>
  </broker>
</beans>
`, dir, port)
	confFile := filepath.Join(dir, "activemq.xml")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-Xmx256m", "-Dactivemq.home=/usr/share/activemq", "-Dactivemq.base="+dir, "-Dactivemq.conf="+dir,
		"-Dactivemq.data="+filepath.Join(dir, "data"), "-jar", activemqJar, "start", "xbean:file:"+confFile)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for !portOpen(port) {
		select {
		case <-exited:
			t.Fatalf("activemq exited at start: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("activemq did not open its MQTT port in 60 s: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return mqttURL(port)
}
