package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Default listener addresses. They bind to loopback so that a fresh install
// exposes nothing to the network.
const (
	DefaultMQTTAddr = "127.0.0.1:1883"
	DefaultWSAddr   = "127.0.0.1:8083"
	DefaultTLSAddr  = "127.0.0.1:8883"
	WSPath          = "/mqtt"
)

// DefaultKeepAliveCap is the longest keep-alive the broker grants an MQTT 5
// client; longer (or zero) requests are capped so that dead peers are noticed.
const DefaultKeepAliveCap = 300

// Config says which listeners to open and where the broker keeps its state.
// An empty address turns that listener off.
type Config struct {
	MQTTAddr string
	WSAddr   string
	TLSAddr  string

	// TLS material: either CertFile and KeyFile, or DevCA to use the
	// development CA kept in DataDir/devca.
	CertFile string
	KeyFile  string
	DevCA    bool

	// DataDir holds sessions, retained messages, the dev CA and users.yaml.
	DataDir string
	// UsersFile overrides DataDir/users.yaml.
	UsersFile string
	// AllowedOrigins lists browser Origins (e.g. "https://dashboard.example")
	// the WebSocket listener accepts besides localhost ones.
	AllowedOrigins []string
	// NoPersistence keeps sessions and retained messages in memory only.
	NoPersistence bool
	// Sessions opens the session store (engine/studio passes
	// engine/sessionstore's); required unless NoPersistence.
	Sessions SessionOpener
	// MaxMessageExpiry caps message expiry in seconds; 0 means messages
	// without an expiry never expire (mochi's default would be 24 h).
	MaxMessageExpiry int64
	// KeepAliveCap is the longest keep-alive granted to MQTT 5 clients.
	KeepAliveCap uint16
	// WritesPending is the per-client outbound queue length.
	WritesPending int32
	// Recorder, when set, receives every accepted message (the capture,
	// the topic model, or a message.Tee of them).
	Recorder message.Sink
	// RetainedAtStart, when set, is called after each Start (a restart
	// from the Broker panel included) with the retained messages the
	// broker then holds: those restored from the data dir were published
	// in an earlier run, so Recorder never saw them. Later retained
	// messages and their clearing reach Recorder as they are published.
	RetainedAtStart func([]message.Message)
	// NoFlowControl lets publishers run ahead of slow subscribers, as plain
	// mochi does, dropping (and counting) what does not fit their queues.
	NoFlowControl bool

	Logger *slog.Logger

	// Connection limits (issue 11). Zero means the default for each.

	// ConnectTimeout bounds how long a new connection may take to complete
	// CONNECT, TLS handshake and WebSocket upgrade included.
	ConnectTimeout time.Duration
	// MaxPacketSize is the largest packet accepted after CONNECT, in bytes;
	// MQTT 5 clients are told in CONNACK.
	MaxPacketSize uint32
	// MaxConnections is how many clients may be connected at once; more are
	// refused with CONNACK "server unavailable".
	MaxConnections int
	// Queue byte budgets (see budget.go): what the broker may hold in
	// messages queued or in flight for one client, and for all of them.
	// 0 means the default, a negative value unlimited.
	MaxQueuedBytesPerClient int64
	MaxQueuedBytes          int64

	// Journal, when set, receives the session journal's events (issue 16):
	// connects, refusals, disconnects with their cause, subscriptions and
	// ACL denials. Its Record must not block.
	Journal journal.Sink
}

// DefaultConfig returns the configuration the app starts with.
func DefaultConfig(dataDir string) Config {
	return Config{
		MQTTAddr:      DefaultMQTTAddr,
		WSAddr:        DefaultWSAddr,
		DataDir:       dataDir,
		KeepAliveCap:  DefaultKeepAliveCap,
		WritesPending: DefaultWritesPending,
	}
}

// DefaultDataDir is the per-user folder the app keeps its state in.
func DefaultDataDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config folder for the data dir (pass --data DIR): %w", err)
	}
	return filepath.Join(base, "iotstudio"), nil
}

func (c Config) usersPath() string {
	if c.UsersFile != "" {
		return c.UsersFile
	}
	return filepath.Join(c.DataDir, "users.yaml")
}

// validate checks what can be checked without touching the network.
func (c Config) validate() error {
	if c.MQTTAddr == "" && c.WSAddr == "" && c.TLSAddr == "" {
		return errors.New("no listener configured: give at least one of --mqtt, --ws, --tls")
	}
	for _, l := range c.listenerAddrs() {
		if err := checkAddr(l.name, l.addr); err != nil {
			return err
		}
	}
	if c.TLSAddr != "" {
		hasFiles := c.CertFile != "" || c.KeyFile != ""
		switch {
		case hasFiles && c.DevCA:
			return errors.New("tls: give either --cert and --key or --dev-ca, not both")
		case !hasFiles && !c.DevCA:
			return errors.New("tls: the TLS listener needs --cert FILE --key FILE, or --dev-ca to use a generated development CA")
		case hasFiles && (c.CertFile == "" || c.KeyFile == ""):
			return errors.New("tls: --cert and --key go together; give both")
		}
	}
	if !c.NoPersistence && c.Sessions == nil {
		return errors.New("persistence needs a session store: set Config.Sessions, or NoPersistence (--no-persist)")
	}
	if c.DataDir == "" && (!c.NoPersistence || c.DevCA) {
		return errors.New("no data dir: pass --data DIR")
	}
	return c.validateLimits()
}

type namedAddr struct{ name, addr string }

func (c Config) listenerAddrs() []namedAddr {
	var out []namedAddr
	for _, l := range []namedAddr{{"mqtt", c.MQTTAddr}, {"ws", c.WSAddr}, {"tls", c.TLSAddr}} {
		if l.addr != "" {
			out = append(out, l)
		}
	}
	return out
}

func checkAddr(name, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s listener address %q is not HOST:PORT (for example 127.0.0.1:1883): %v", name, addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s listener address %q: port %q is not a number from 0 to 65535", name, addr, port)
	}
	return nil
}

// exposedAddrs returns the listener addresses reachable from other machines.
func (c Config) exposedAddrs() []namedAddr {
	var out []namedAddr
	for _, l := range c.listenerAddrs() {
		if !IsLoopback(l.addr) {
			out = append(out, l)
		}
	}
	return out
}

// IsLoopback reports whether addr (host:port) is reachable from this
// machine only: localhost or a loopback IP. An empty host (every
// interface) or any other address is reachable from others, and then the
// broker (and its metrics) ask for credentials.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
