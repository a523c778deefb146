package broker

import (
	"fmt"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// DefaultConnectTimeout is how long a new connection may take to send its
// CONNECT, TLS handshake and WebSocket upgrade included: long enough for a
// device on a slow link, short enough that idle sockets cannot pile up.
const DefaultConnectTimeout = 10 * time.Second

// DefaultMaxPacketSize bounds a packet after CONNECT. The capture keeps
// records of up to 64 MiB, so every packet the broker accepts by default can
// be captured whole (topic, properties and client ID included); a quarter of
// that keeps the two copies mochi makes of each packet small on a laptop.
const DefaultMaxPacketSize = 16 << 20

// MaxPacketSizeLimit is MQTT's own largest packet: a 268,435,455-byte
// remaining length and a 5-byte fixed header.
const MaxPacketSizeLimit = 268_435_455 + 5

// minPacketSize keeps the broker usable: smaller and ordinary CONNECTs and
// SUBSCRIBEs would be refused.
const minPacketSize = 64

// connectPacketLimit is the most a connection may make the broker hold
// before its CONNECT is done. A CONNECT carries at most five 65,535-byte
// fields (client ID, will topic, will payload, user name, password) plus
// properties, about 320 KiB; 512 KiB leaves room for properties and refuses
// the 256 MB "CONNECT" an attacker would declare.
const connectPacketLimit = 512 << 10

// DefaultMaxConnections caps the default limit whatever the descriptor
// limit: mochi allocates about 200 KB of buffers and queue per connected
// client, so ten thousand clients already take 2 GB.
const DefaultMaxConnections = 10_000

// fdReserve is how many descriptors the default connection limit leaves to
// the rest of the process: Badger (sessions, capture index), capture block
// files, the users file, the GUI.
func fdReserve(limit uint64) uint64 {
	if limit >= 4096 {
		return 1024
	}
	return limit / 4
}

// validateLimits names the serve flags, the only way to set these.
func (c Config) validateLimits() error {
	if c.ConnectTimeout != 0 && (c.ConnectTimeout < 100*time.Millisecond || c.ConnectTimeout > time.Hour) {
		return fmt.Errorf("--connect-timeout %v: give a duration from 100ms to 1h (for example 10s)", c.ConnectTimeout)
	}
	if c.MaxPacketSize != 0 && (c.MaxPacketSize < minPacketSize || c.MaxPacketSize > MaxPacketSizeLimit) {
		return fmt.Errorf("--max-packet-size %d bytes: give a size from %d bytes to 256MiB (MQTT's own limit), for example 16MiB",
			c.MaxPacketSize, minPacketSize)
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("--max-connections %d: give a positive number, or 0 for the default (from ulimit -n)", c.MaxConnections)
	}
	return nil
}

func (c Config) connectTimeout() time.Duration {
	if c.ConnectTimeout == 0 {
		return DefaultConnectTimeout
	}
	return c.ConnectTimeout
}

func (c Config) maxPacketSize() uint32 {
	if c.MaxPacketSize == 0 {
		return DefaultMaxPacketSize
	}
	return c.MaxPacketSize
}

// connectLimit is the first packet's limit: never more than any later
// packet's, which mochi would refuse anyway.
func (c Config) connectLimit() int {
	return int(min(uint32(connectPacketLimit), c.maxPacketSize()))
}

// maxConnections is the polite limit: clients beyond it get CONNACK
// "server unavailable".
func (c Config) maxConnections() int {
	if c.MaxConnections > 0 {
		return c.MaxConnections
	}
	return defaultMaxConnections(openFileLimit())
}

func defaultMaxConnections(fdLimit uint64) int {
	if fdLimit == 0 {
		return DefaultMaxConnections
	}
	n := fdLimit - fdReserve(fdLimit)
	return int(min(n-n/8, DefaultMaxConnections))
}

// socketLimit is the hard limit on open client sockets, connected or not:
// above the polite limit, so that refusals can still be said in MQTT, but
// below the descriptor limit, so that accept never fails for lack of one.
// Sockets beyond it are closed as soon as they are accepted.
func socketLimit(maxConns int) int {
	return maxConns + maxConns/8 + 16
}

// applyLimits puts the configured limits into mochi's capabilities and
// sizes the socket slots to match.
func (b *Broker) applyLimits(caps *mqtt.Capabilities) {
	caps.MaximumPacketSize = b.cfg.maxPacketSize()
	maxConns := b.cfg.maxConnections()
	caps.MaximumClients = int64(maxConns)
	b.slots = &connSlots{max: int64(socketLimit(maxConns))}
	if fd := openFileLimit(); fd > 0 && uint64(socketLimit(maxConns)) > fd {
		b.log.Warn("the connection limit is above the open-file limit; clients may be refused without a CONNACK",
			"max_connections", maxConns, "open_file_limit", fd, "what to do", "raise ulimit -n or lower --max-connections")
	}
}
