package brokerpanel

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// ErrorText is err as the panel and the settings dialog show it. The
// engine's errors are English (the command line prints them too), so the
// ones a user meets here — a listener that cannot open its address, the
// broker busy with another action — are worded again in the window's
// language; any other error keeps the engine's words.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, errBusy) {
		return lang.L("The broker is busy with another action; save again when it has finished.")
	}
	var le *broker.ListenError
	if !errors.As(err, &le) {
		return err.Error()
	}
	name := le.Listener
	if n, ok := listenerNames[le.Listener]; ok {
		name = lang.L(n)
	}
	host, port, serr := net.SplitHostPort(le.Addr)
	if serr != nil {
		host, port = le.Addr, le.Addr
	}
	switch {
	case le.InUse():
		return fmt.Sprintf(lang.L("Port %s is already in use by another program, so the %s listener cannot open %s; choose another port or stop that program."),
			port, name, le.Addr)
	case errors.Is(le.Err, syscall.EACCES):
		return fmt.Sprintf(lang.L("Port %s needs administrator rights (ports below 1024 do), so the %s listener cannot open %s; choose a port above 1023."),
			port, name, le.Addr)
	case errors.Is(le.Err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf(lang.L("The %s listener cannot open %s: %s is not an address of this computer; use 127.0.0.1, or 0.0.0.0 for every interface."),
			name, le.Addr, host)
	}
	return fmt.Sprintf(lang.L("The %s listener cannot open %s: %v."), name, le.Addr, le.Err)
}
