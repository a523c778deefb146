package brokerpanel

import (
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

func newRealBroker(t *testing.T, addr string) *broker.Broker {
	t.Helper()
	b, err := broker.New(broker.Config{MQTTAddr: addr, DataDir: t.TempDir(), NoPersistence: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	return b
}

// TestRealBrokerListsClient starts the real broker from the panel, connects
// a hand-written MQTT 3.1.1 client and waits for the refresh to list it.
func TestRealBrokerListsClient(t *testing.T) {
	b := newRealBroker(t, "127.0.0.1:0")
	h := newHarness(t, b)
	p := h.panel

	test.Tap(p.startStop)
	h.q.Run(t)
	if p.startStop.Text != "Stop" || len(p.state.Listeners) != 1 {
		t.Fatalf("after Start: button %q, listeners %+v, error %q", p.startStop.Text, p.state.Listeners, p.errText.Text)
	}
	addr := p.state.Listeners[0].Address
	if !slices.Contains(uitest.Labels(p.listenerBox), "mqtt://"+addr) {
		t.Errorf("listeners show %q, want mqtt://%s", uitest.Labels(p.listenerBox), addr)
	}

	conn := mqttClient(t, addr, "panel-test-client", "site/+/temp")
	defer conn.Close()

	p.interval = 20 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)
	h.q.Until(t, "the client to be listed", func() bool {
		return slices.Contains(uitest.Labels(p.clients.table), "panel-test-client")
	})
	got := uitest.Labels(p.clients.table)
	for _, want := range []string{"MQTT 3.1.1", "site/+/temp", conn.LocalAddr().String()} {
		if !slices.Contains(got, want) {
			t.Errorf("client row lacks %q: %q", want, got)
		}
	}
	h.q.Until(t, "the counters to count the client", func() bool {
		return p.counters[0].text.Text == "1" // Clients connected
	})

	// Disconnect from the table closes the client's connection.
	test.Tap(uitest.Buttons(p.clients.table, "Disconnect")[0])
	test.Tap(uitest.OverlayButton(t, h.win, "Disconnect"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("connection not closed by Disconnect: %v", err)
	}
	h.q.Until(t, "the client to leave the table", func() bool {
		return !slices.Contains(uitest.Labels(p.clients.table), "panel-test-client")
	})

	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestRealBrokerBusyPort starts the real broker on a taken port, then moves
// it with Change port… and the settings dialog.
func TestRealBrokerBusyPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := newRealBroker(t, taken.Addr().String())
	h := newHarness(t, b)
	p := h.panel

	test.Tap(p.startStop)
	h.q.Run(t)
	if !strings.Contains(p.errText.Text, "already in use") || !p.changePort.Visible() {
		t.Fatalf("busy port: error %q, change port shown %v", p.errText.Text, p.changePort.Visible())
	}

	test.Tap(p.changePort)
	p.settings.mqtt.SetText("127.0.0.1:0")
	test.Tap(p.settings.save)
	h.q.Run(t)
	if b.State().Status != broker.Running || p.startStop.Text != "Stop" || p.errRow.Visible() {
		t.Fatalf("after changing port: broker %v, button %q, error %q", b.State().Status, p.startStop.Text, p.errText.Text)
	}
	if got := b.State().Listeners[0].Address; got == taken.Addr().String() {
		t.Errorf("broker still on the taken port %s", got)
	}
	if got := h.app.Preferences().String(KeyMQTTAddr); got != "127.0.0.1:0" {
		t.Errorf("saved MQTT address %q", got)
	}
}

// mqttClient connects with MQTT 3.1.1 and subscribes to filter.
func mqttClient(t *testing.T, addr, id, filter string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))

	connect := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60} // protocol 3.1.1, clean session, keep-alive 60 s
	connect = appendMQTTString(connect, id)
	writePacket(t, c, 0x10, connect)
	if ack := readPacket(t, c); ack[0] != 0x20 || len(ack) != 4 || ack[3] != 0 {
		t.Fatalf("CONNACK = % x", ack)
	}

	sub := appendMQTTString([]byte{0, 1}, filter)
	sub = append(sub, 0)
	writePacket(t, c, 0x82, sub)
	if ack := readPacket(t, c); ack[0] != 0x90 || ack[len(ack)-1] != 0 {
		t.Fatalf("SUBACK = % x", ack)
	}
	_ = c.SetDeadline(time.Time{})
	return c
}

func appendMQTTString(b []byte, s string) []byte {
	return append(append(b, byte(len(s)>>8), byte(len(s))), s...)
}

func writePacket(t *testing.T, c net.Conn, header byte, body []byte) {
	t.Helper()
	if len(body) > 127 {
		t.Fatal("writePacket only encodes short packets")
	}
	if _, err := c.Write(append([]byte{header, byte(len(body))}, body...)); err != nil {
		t.Fatal(err)
	}
}

// readPacket reads one short packet, fixed header included.
func readPacket(t *testing.T, c net.Conn) []byte {
	t.Helper()
	head := make([]byte, 2)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, head[1])
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return append(head, body...)
}
