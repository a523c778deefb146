package transport

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrBadURL is wrapped by every error about the form of a broker URL.
var ErrBadURL = errors.New("bad broker URL")

// Target is where a client connects, read from a URL.
type Target struct {
	// Scheme is "mqtt" (TCP), "mqtts" (TLS), "ws" or "wss" (WebSocket,
	// plain or over TLS). tcp://, ssl:// and tls:// are read as mqtt://,
	// mqtts:// and mqtts://.
	Scheme string
	// Addr is HOST:PORT; a missing port is 1883, 8883, 80 or 443.
	Addr string
	// Path is the WebSocket path ("/mqtt" when the URL gives none).
	Path string
}

// String is the URL of t (it never holds credentials).
func (t Target) String() string { return t.Scheme + "://" + t.Addr + t.Path }

// TLS reports whether the connection uses TLS.
func (t Target) TLS() bool { return t.Scheme == "mqtts" || t.Scheme == "wss" }

var (
	schemeAliases = map[string]string{"mqtt": "mqtt", "tcp": "mqtt", "mqtts": "mqtts", "ssl": "mqtts", "tls": "mqtts", "ws": "ws", "wss": "wss"}
	defaultPorts  = map[string]string{"mqtt": "1883", "mqtts": "8883", "ws": "80", "wss": "443"}
)

const urlForms = "mqtt://HOST:PORT, mqtts://HOST:PORT, ws://HOST:PORT/mqtt or wss://HOST:PORT/mqtt"

// ParseURL reads a broker URL such as mqtt://127.0.0.1:1883,
// mqtts://broker.example:8883 or ws://localhost:8083/mqtt. Credentials in
// the URL are refused (they would show in process lists and logs).
func ParseURL(raw string) (Target, error) {
	shown := redact(raw)
	bad := func(format string, a ...any) (Target, error) {
		return Target{}, fmt.Errorf("%w %q: %s", ErrBadURL, shown, fmt.Sprintf(format, a...))
	}
	if !strings.Contains(raw, "://") {
		return bad("give a URL such as %s", urlForms)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v; give a URL such as %s", unwrapURLError(err), urlForms)
	}
	scheme, ok := schemeAliases[strings.ToLower(u.Scheme)]
	if !ok {
		return bad("unsupported scheme %q; use %s", u.Scheme, urlForms)
	}
	if u.User != nil {
		return bad("the URL must not hold a user name or password; give them separately (--user and IOTSTUDIO_MQTT_PASSWORD)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("a broker URL takes no ?query or #fragment")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return bad("no host; give one, e.g. %s://127.0.0.1:%s", scheme, defaultPorts[scheme])
	}
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return bad("empty port")
		}
		port = defaultPorts[scheme]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("port %q is not a number from 1 to 65535", port)
	}
	t := Target{Scheme: scheme, Addr: net.JoinHostPort(host, port)}
	switch scheme {
	case "ws", "wss":
		t.Path = u.EscapedPath()
		if t.Path == "" {
			t.Path = "/mqtt"
		}
	default:
		if u.Path != "" && u.Path != "/" {
			return bad("%s:// takes no path (%q); for MQTT over WebSocket use ws://", scheme, u.Path)
		}
	}
	return t, nil
}

// redact hides what looks like credentials in a URL that may not parse.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.LastIndex(rest, "@"); j >= 0 {
			return raw[:i+3] + "xxxxx@" + rest[j+1:]
		}
	}
	return raw
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
