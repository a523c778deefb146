package device

import (
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Lifecycle defaults, for what a profile leaves out.
const (
	DefaultKeepAlive    = 30 * time.Second
	DefaultReconnectMin = time.Second
	DefaultReconnectMax = 30 * time.Second
	DefaultOnline       = "online"
	DefaultOffline      = "offline"
)

type lifeSpec struct {
	status      *statusSpec
	birth, will *msgSpec

	keepAlive, expiry    time.Duration
	cleanStart           bool
	reconnMin, reconnMax time.Duration
	mtbf, downtime       time.Duration
	dropPercent          float64
}

type statusSpec struct {
	topic           *tmpl
	online, offline string
	qos             byte
}

func (c *profileCompiler) lifecycle() {
	l := &c.out.life
	l.keepAlive, l.cleanStart = DefaultKeepAlive, true
	l.reconnMin, l.reconnMax = DefaultReconnectMin, DefaultReconnectMax
	lc := c.p.Lifecycle
	if lc == nil {
		return
	}
	at := c.p.At
	if s := lc.Status; s != nil {
		l.status = &statusSpec{topic: c.topic(at, "lifecycle status", s.Topic), online: s.Online, offline: s.Offline, qos: c.qos(at, "lifecycle status", s.QoS)}
		if l.status.online == "" {
			l.status.online = DefaultOnline
		}
		if l.status.offline == "" {
			l.status.offline = DefaultOffline
		}
	}
	if b := lc.Birth; b != nil {
		l.birth = c.message(at, "lifecycle birth", "lifecycle/birth", b.Topic, true, b.Fields, b.Payload, nil)
		l.birth.qos, l.birth.retain = c.qos(at, "lifecycle birth", b.QoS), b.Retain
	}
	if w := lc.Will; w != nil {
		if c.p.Sparkplug != nil {
			c.errorf(at, "lifecycle will: a Sparkplug B node's will is its NDEATH; remove lifecycle.will")
		}
		l.will = c.message(at, "lifecycle will", "lifecycle/will", w.Topic, true, w.Fields, w.Payload, nil)
		l.will.qos, l.will.retain = c.qos(at, "lifecycle will", w.QoS), w.Retain
	}
	if lc.KeepAlive != 0 {
		l.keepAlive = time.Duration(lc.KeepAlive)
		if l.keepAlive < time.Second || l.keepAlive > 65535*time.Second {
			c.errorf(at, "lifecycle keep_alive is %v; MQTT allows 1s to 18h12m15s", l.keepAlive)
		}
	}
	c.session(at, lc.Session)
	c.backoff(at, lc.Reconnect)
	c.chaos(at, lc.Chaos)
}

func (c *profileCompiler) session(at scenario.Pos, s *scenario.Session) {
	if s == nil {
		return
	}
	l := &c.out.life
	if s.CleanStart != nil {
		l.cleanStart = *s.CleanStart
	}
	l.expiry = time.Duration(s.Expiry)
	if l.expiry < 0 {
		c.errorf(at, "lifecycle session expiry must be 0 or more")
	}
}

func (c *profileCompiler) backoff(at scenario.Pos, b *scenario.Backoff) {
	if b == nil {
		return
	}
	l := &c.out.life
	if b.Min != 0 {
		l.reconnMin = time.Duration(b.Min)
	}
	if b.Max != 0 {
		l.reconnMax = time.Duration(b.Max)
	}
	if l.reconnMin <= 0 || l.reconnMax < l.reconnMin {
		c.errorf(at, "lifecycle reconnect: min (%v) must be positive and at most max (%v)", l.reconnMin, l.reconnMax)
	}
}

func (c *profileCompiler) chaos(at scenario.Pos, ch *scenario.Chaos) {
	if ch == nil {
		return
	}
	l := &c.out.life
	l.mtbf, l.downtime, l.dropPercent = time.Duration(ch.MTBF), time.Duration(ch.Downtime), ch.DropPercent
	if l.mtbf < 0 || l.downtime < 0 {
		c.errorf(at, "lifecycle chaos: mtbf and downtime must be positive durations, e.g. mtbf: 10m")
	}
	if l.dropPercent < 0 || l.dropPercent > 100 {
		c.errorf(at, "lifecycle chaos: drop_percent is %v; it must be between 0 and 100", l.dropPercent)
	}
}
