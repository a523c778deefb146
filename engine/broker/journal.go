package broker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/journal"
)

// The session journal (Config.Journal) hears of sessions from three places,
// so that no per-packet hook is added for it: journalHook for sessions and
// subscriptions, journaledAuth (around the ACL) for refused logins and
// denied publishes, and packetHooks (as packets are read and encoded) for a
// client's DISCONNECT reason code and for CONNACKs refusing a CONNECT
// before any hook ran (client ID, protocol, server busy).

// journalHook turns mochi's session events into journal events.
type journalHook struct {
	mqtt.HookBase
	sink journal.Sink
	// said holds the reason code of the DISCONNECT a client sent, from
	// the moment it is read until its OnDisconnect (which always
	// follows); told, the DISCONNECT the broker sent it (as it is
	// encoded). The broker's reason comes first: the client may close the
	// socket on reading it, and mochi then sees the closed socket before
	// its own stop cause.
	said, told sync.Map // *mqtt.Client -> byte
	// deniedAt is the Unix second of each client's last journaled publish
	// denial: a device publishing where it may not would otherwise fill
	// the journal (and its queue) with one event per message.
	deniedAt sync.Map // *mqtt.Client -> *atomic.Int64
}

// publishDenialDue reports whether cl's publish denial is the first this
// second, and so journaled.
func (h *journalHook) publishDenialDue(cl *mqtt.Client) bool {
	v, ok := h.deniedAt.Load(cl)
	if !ok {
		v, _ = h.deniedAt.LoadOrStore(cl, new(atomic.Int64))
	}
	last, now := v.(*atomic.Int64), time.Now().Unix()
	old := last.Load()
	return old != now && last.CompareAndSwap(old, now)
}

func (h *journalHook) ID() string { return "iotstudio-journal" }

// Provides is asked for every event of every packet; a switch costs
// nothing.
func (h *journalHook) Provides(b byte) bool {
	switch b {
	case mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnSubscribed, mqtt.OnUnsubscribed:
		return true
	}
	return false
}

func (h *journalHook) base(cl *mqtt.Client, kind journal.Kind) journal.Event {
	return journal.Event{
		Time:     time.Now(),
		Kind:     kind,
		Client:   cl.ID,
		User:     string(cl.Properties.Username),
		Remote:   cl.Net.Remote,
		Listener: cl.Net.Listener,
	}
}

// OnSessionEstablished records a connect with what the CONNECT asked and
// the broker granted (the keep-alive after the cap).
func (h *journalHook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	if cl.Net.Inline {
		return
	}
	ev := h.base(cl, journal.Connect)
	ev.Protocol = cl.Properties.ProtocolVersion
	ev.CleanStart = pk.Connect.Clean
	ev.KeepAlive = cl.State.Keepalive
	if cl.Properties.ProtocolVersion == 5 {
		ev.SessionExpiry = cl.Properties.Props.SessionExpiryInterval
	}
	if pk.Connect.WillFlag {
		ev.WillTopic = pk.Connect.WillTopic
	}
	ev.CertSubject = peerCertSubject(cl.Net.Conn)
	h.sink.Record(ev)
}

// clientSaid remembers the reason code of a client's DISCONNECT as it is read.
func (h *journalHook) clientSaid(cl *mqtt.Client, code byte) { h.said.Store(cl, code) }

// brokerSaid remembers the reason code of the DISCONNECT the broker sends
// a client, as it is encoded.
func (h *journalHook) brokerSaid(cl *mqtt.Client, code byte) {
	if !cl.Net.Inline {
		h.told.LoadOrStore(cl, code)
	}
}

// OnDisconnect records why a session ended. mochi's err is what ended the
// read loop (for a session stopped by the broker, the closed socket);
// the client's stop cause is the first reason given, so it comes first.
func (h *journalHook) OnDisconnect(cl *mqtt.Client, err error, _ bool) {
	said, saidOK := h.said.LoadAndDelete(cl)
	told, toldOK := h.told.LoadAndDelete(cl)
	h.deniedAt.Delete(cl)
	// mochi also calls OnDisconnect for the sessions it restores from the
	// store at start, which have no connection.
	if cl.Net.Inline || cl.Net.Conn == nil {
		return
	}
	ev := h.base(cl, journal.Disconnect)
	cause := cl.StopCause()
	if toldOK {
		cause = packets.Code{Code: told.(byte), Reason: codeWords(told.(byte))}
	} else if cause == nil {
		cause = err
	}
	ev.Cause, ev.Code, ev.Reason = disconnectCause(cause, saidOK)
	if saidOK {
		ev.Code = said.(byte)
	}
	h.sink.Record(ev)
}

// disconnectCause maps what stopped a client to a journal cause, a reason
// code and words. saidDisconnect: the client sent DISCONNECT.
func disconnectCause(err error, saidDisconnect bool) (journal.Cause, byte, string) {
	var code packets.Code
	if errors.As(err, &code) {
		switch {
		case code.Code == packets.ErrSessionTakenOver.Code:
			return journal.CauseTakenOver, code.Code, "another connection took over the client ID"
		case code.Code == packets.ErrServerShuttingDown.Code:
			return journal.CauseShutdown, code.Code, "the broker stopped or restarted"
		case code.Code == packets.ErrAdministrativeAction.Code:
			return journal.CauseKicked, code.Code, "disconnected by the broker's owner"
		case code.Code == packets.ErrKeepAliveTimeout.Code:
			return journal.CauseKeepAlive, code.Code, code.Reason
		case code.Code == packets.ErrMalformedPacket.Code:
			return journal.CauseMalformed, code.Code, code.Reason
		case code.Code >= packets.ErrUnspecifiedError.Code:
			return journal.CauseProtocol, code.Code, code.Reason
		}
		if saidDisconnect {
			return journal.CauseClient, code.Code, ""
		}
	}
	if saidDisconnect {
		return journal.CauseClient, 0, ""
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return journal.CauseKeepAlive, packets.ErrKeepAliveTimeout.Code, "nothing heard from the client for 1.5 times its keep-alive"
	}
	switch {
	case err == nil:
		return journal.CauseNetwork, 0, "connection closed"
	case errors.Is(err, io.EOF):
		return journal.CauseNetwork, 0, "the client closed the connection without DISCONNECT"
	case errors.Is(err, syscall.ECONNRESET):
		return journal.CauseNetwork, 0, "connection reset by the client's side"
	}
	return journal.CauseNetwork, 0, err.Error()
}

// OnSubscribed records the filters asked for and the broker's answer; a
// filter the ACL refused is also an acl-denied event.
func (h *journalHook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, codes []byte) {
	if cl.Net.Inline {
		return
	}
	ev := h.base(cl, journal.Subscribe)
	ev.Filters = make([]journal.Filter, len(pk.Filters))
	var denied []string
	for i, sub := range pk.Filters {
		f := journal.Filter{Filter: sub.Filter, QoS: sub.Qos, Granted: -1, Code: packets.ErrUnspecifiedError.Code}
		if i < len(codes) {
			f.Code = codes[i]
		}
		if f.Code < packets.ErrUnspecifiedError.Code {
			f.Granted = int(f.Code)
		}
		// 0x87 is the ACL's answer; MQTT 3 clients get 0x80 for every
		// refusal, which for a valid filter is the ACL too.
		if f.Code == packets.ErrNotAuthorized.Code ||
			(f.Code == packets.ErrUnspecifiedError.Code && cl.Properties.ProtocolVersion < 5 && mqtt.IsValidFilter(sub.Filter, false)) {
			denied = append(denied, sub.Filter)
		}
		ev.Filters[i] = f
	}
	h.sink.Record(ev)
	for _, filter := range denied {
		d := h.base(cl, journal.Denied)
		d.Action, d.Topic = "subscribe", filter
		h.sink.Record(d)
	}
}

func (h *journalHook) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	// mochi reports a session's end as an UNSUBSCRIBE without packet ID;
	// the disconnect says that.
	if cl.Net.Inline || pk.PacketID == 0 {
		return
	}
	ev := h.base(cl, journal.Unsubscribe)
	ev.Filters = make([]journal.Filter, len(pk.Filters))
	for i, sub := range pk.Filters {
		ev.Filters[i] = journal.Filter{Filter: sub.Filter, Granted: -1}
	}
	h.sink.Record(ev)
}

// refusedConnack records a CONNACK refusing a CONNECT that no hook had
// refused: the auth hook's refusals (0x86, 0x87, 0x90; to MQTT 3 clients
// 0x04, 0x05) are recorded by journaledAuth with better words. Called
// by the encoder with mochi's packet, before it is fixed for 3.1.1.
func (h *journalHook) refusedConnack(cl *mqtt.Client, pk packets.Packet) {
	if pk.ReasonCode == packets.CodeSuccess.Code || cl.Net.Inline {
		return
	}
	if cl.Properties.ProtocolVersion < 5 {
		if pk.ReasonCode == packets.ErrMalformedUsernameOrPassword.Code || pk.ReasonCode == packets.Err3NotAuthorized.Code {
			return
		}
	} else {
		switch pk.ReasonCode {
		case packets.ErrBadUsernameOrPassword.Code, packets.ErrNotAuthorized.Code, packets.ErrTopicNameInvalid.Code:
			return
		}
	}
	ev := h.base(cl, journal.Refused)
	ev.Protocol = cl.Properties.ProtocolVersion
	ev.Code = pk.ReasonCode
	ev.Reason = pk.Properties.ReasonString
	switch {
	case pk.ReasonCode == packets.ErrUnspecifiedError.Code && cl.Properties.ProtocolVersion < 5 && !cl.Properties.Clean:
		// mochi's one refusal with this code (validateConnect)
		ev.Reason = "client ID rejected: an MQTT 3.1.1 client without a client ID must ask for a clean session"
	case ev.Reason == "":
		ev.Reason = codeWords(pk.ReasonCode)
	}
	h.sink.Record(ev)
}

// journaledAuth is the ACL hook with its refusals journaled.
type journaledAuth struct {
	budgetedAuth
	j *journalHook
}

func (a journaledAuth) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if a.budgetedAuth.OnConnectAuthenticate(cl, pk) {
		return true
	}
	ev := a.j.base(cl, journal.Refused)
	ev.User = string(pk.Connect.Username)
	ev.Protocol = cl.Properties.ProtocolVersion
	// The auth hook refuses a will by answering and stopping the client
	// itself, with the reason as stop cause; a login mochi answers.
	var code packets.Code
	switch stop := cl.StopCause(); {
	case stop != nil && errors.As(stop, &code):
		ev.Code, ev.Reason = code.Code, stop.Error()
	case len(pk.Connect.Username) == 0:
		ev.Code, ev.Reason = packets.ErrBadUsernameOrPassword.Code, "anonymous clients are not allowed: no user name given"
	default:
		ev.Code, ev.Reason = packets.ErrBadUsernameOrPassword.Code, "bad user name or password"
	}
	a.j.sink.Record(ev)
	return false
}

func (a journaledAuth) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if a.budgetedAuth.OnACLCheck(cl, topic, write) {
		return true
	}
	// Read checks are subscriptions (recorded from OnSubscribed) and
	// deliveries, which only a tightened ACL refuses. Publish denials:
	// at most one a second per client.
	if write && !cl.Net.Inline && a.j.publishDenialDue(cl) {
		ev := a.j.base(cl, journal.Denied)
		ev.Action, ev.Topic = "publish", topic
		a.j.sink.Record(ev)
	}
	return false
}

// peerCertSubject is the subject of the TLS client certificate under the
// broker's connection wrappers, if the client sent one.
func peerCertSubject(c net.Conn) string {
	for range 8 {
		switch t := c.(type) {
		case *tls.Conn:
			if certs := t.ConnectionState().PeerCertificates; len(certs) > 0 {
				return certs[0].Subject.String()
			}
			return ""
		case *ackConn:
			c = t.Conn
		case *guardConn:
			c = t.Conn
		case *slotConn:
			c = t.Conn
		default:
			return ""
		}
	}
	return ""
}

// codeWords is mochi's text for a reason code.
func codeWords(code byte) string {
	for _, c := range []packets.Code{
		packets.ErrSessionTakenOver, packets.ErrServerShuttingDown, packets.ErrAdministrativeAction,
		packets.ErrKeepAliveTimeout, packets.ErrMalformedPacket, packets.ErrProtocolViolation,
		packets.ErrUnsupportedProtocolVersion, packets.ErrClientIdentifierNotValid, packets.ErrServerUnavailable,
		packets.ErrServerBusy, packets.ErrQuotaExceeded, packets.ErrPacketTooLarge, packets.ErrReceiveMaximum,
		packets.ErrTopicAliasInvalid, packets.ErrNotAuthorized, packets.ErrTopicNameInvalid,
		packets.ErrImplementationSpecificError, packets.ErrUnspecifiedError, packets.ErrQosNotSupported,
		packets.ErrRetainNotSupported, packets.ErrBanned,
	} {
		if c.Code == code {
			return c.Reason
		}
	}
	return fmt.Sprintf("reason code 0x%02X", code)
}
