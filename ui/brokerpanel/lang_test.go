package brokerpanel

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// The engine's listen errors are English sentences; the panel says them
// in the window's language, naming the port and the listener.
func TestErrorTextInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	listenErr := func(listener, addr string, errno error) error {
		return fmt.Errorf("start the broker: %w", &broker.ListenError{Listener: listener, Addr: addr, Err: &net.OpError{Op: "listen", Err: errno}})
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{listenErr("mqtt", "127.0.0.1:1883", syscall.EADDRINUSE),
			"Порт 1883 уже занят другой программой, поэтому слушатель MQTT не может открыть 127.0.0.1:1883; выберите другой порт или остановите ту программу."},
		{listenErr("ws", "0.0.0.0:80", syscall.EACCES),
			"Порту 80 нужны права администратора (как всем портам ниже 1024), поэтому слушатель WebSocket не может открыть 0.0.0.0:80; выберите порт выше 1023."},
		{listenErr("tls", "10.9.9.9:8883", syscall.EADDRNOTAVAIL),
			"Слушатель MQTT поверх TLS не может открыть 10.9.9.9:8883: 10.9.9.9 — не адрес этого компьютера; используйте 127.0.0.1 или 0.0.0.0 для всех интерфейсов."},
		{errBusy, "Брокер занят другим действием; сохраните снова, когда оно завершится."},
		{errors.New("something else"), "something else"},
		{nil, ""},
	} {
		if got := ErrorText(tc.err); got != tc.want {
			t.Errorf("ErrorText(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// A real broker on a port another program holds: the panel says so in
// Russian and offers to change the port.
func TestRealBrokerBusyPortInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	b := newRealBroker(t, taken.Addr().String())
	h := newHarness(t, b)
	p := h.panel

	test.Tap(p.startStop)
	h.q.Run(t)
	if want := "Порт " + port + " уже занят другой программой"; !strings.HasPrefix(p.errText.Text, want) || !p.changePort.Visible() {
		t.Fatalf("busy port: error %q, want it to start %q; change port shown %v", p.errText.Text, want, p.changePort.Visible())
	}
}
