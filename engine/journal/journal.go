// Package journal defines the session journal's events: who connected to
// the embedded broker, from where and how, why a CONNECT was refused, why
// a session ended, what it subscribed to, what the ACL denied it, and the
// state changes of the connections to other brokers. It is stdlib only, so
// that the broker emits events without linking the store
// (engine/journalstore keeps them in Badger).
//
// Passwords are never part of an Event: there is no field for one, and
// the broker's hook copies only the fields below out of a CONNECT.
package journal

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is what happened.
type Kind string

// The kinds of events.
const (
	Connect     Kind = "connect"      // a session was established
	Refused     Kind = "refused"      // a CONNECT was refused (Code, Reason)
	Disconnect  Kind = "disconnect"   // a session ended (Cause, Code, Reason)
	Subscribe   Kind = "subscribe"    // filters asked for, granted or refused (Filters)
	Unsubscribe Kind = "unsubscribe"  // filters given up (Filters)
	Denied      Kind = "acl-denied"   // the ACL refused a publish or a subscribe (Action, Topic)
	Remote      Kind = "remote-state" // a connection to another broker changed state (State, Reason)
)

// Kinds lists every kind, in the order help texts give them.
var Kinds = []Kind{Connect, Refused, Disconnect, Subscribe, Unsubscribe, Denied, Remote}

// ParseKinds reads a comma-separated list of kinds ("connect,disconnect").
// An unknown kind is an error that lists the valid ones.
func ParseKinds(s string) ([]Kind, error) {
	var out []Kind
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !slices.Contains(Kinds, Kind(f)) {
			return nil, fmt.Errorf("unknown event kind %q: give one or more of %s, separated by commas", f, kindList())
		}
		if !slices.Contains(out, Kind(f)) {
			out = append(out, Kind(f))
		}
	}
	return out, nil
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// Cause is why a session ended.
type Cause string

// The causes of a Disconnect.
const (
	CauseClient    Cause = "client-disconnect" // the client sent DISCONNECT (Code is its reason code)
	CauseKeepAlive Cause = "keepalive-timeout" // nothing heard from the client for 1.5 keep-alives
	CauseNetwork   Cause = "network-error"     // the connection broke or was closed without DISCONNECT
	CauseTakenOver Cause = "session-taken-over"
	CauseKicked    Cause = "kicked"          // disconnected from the window or by the broker's owner
	CauseShutdown  Cause = "server-shutdown" // the broker stopped or restarted
	CauseMalformed Cause = "malformed-packet"
	CauseProtocol  Cause = "protocol-error" // a packet broke the protocol, or the broker refused one (Code)
)

// Filter is one topic filter of a SUBSCRIBE or UNSUBSCRIBE and the
// broker's answer: Granted is the QoS given, or -1 when refused, Code the
// reason code (0x00–0x02 granted).
type Filter struct {
	Filter  string `json:"filter"`
	QoS     byte   `json:"qos"`
	Granted int    `json:"granted"`
	Code    byte   `json:"code"`
}

// Event is one entry of the journal. Fields that do not apply to its Kind
// are zero and left out of its JSON.
type Event struct {
	// Seq orders events; set by the store (0 before).
	Seq  uint64    `json:"seq,omitempty"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Client is the MQTT client ID, or for a Remote event the connection's
	// name.
	Client string `json:"client"`
	User   string `json:"user,omitempty"`
	Remote string `json:"remote,omitempty"` // the peer's address
	// Listener is the broker listener ("mqtt", "ws", "tls").
	Listener string `json:"listener,omitempty"`

	// Connect.
	Protocol      byte   `json:"protocol,omitempty"` // 3, 4 (3.1.1) or 5
	CleanStart    bool   `json:"clean_start,omitempty"`
	KeepAlive     uint16 `json:"keepalive,omitempty"`      // seconds, as granted
	SessionExpiry uint32 `json:"session_expiry,omitempty"` // seconds
	WillTopic     string `json:"will_topic,omitempty"`
	CertSubject   string `json:"cert_subject,omitempty"` // the TLS client certificate's subject

	// Refused, Disconnect: the reason code and why in words; Cause for a
	// Disconnect.
	Cause  Cause  `json:"cause,omitempty"`
	Code   byte   `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`

	// Subscribe, Unsubscribe.
	Filters []Filter `json:"filters,omitempty"`

	// Denied: "publish" or "subscribe", and the topic or filter.
	Action string `json:"action,omitempty"`
	Topic  string `json:"topic,omitempty"`

	// Remote: the connection's new state (connecting, connected,
	// reconnecting, disconnected) and its URL.
	State string `json:"state,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Sink receives events. Record is called on the broker's goroutines and
// must never block; it reports false when the event was dropped.
type Sink interface {
	Record(Event) bool
}

// Words are the words a summary is said in: formats for the facts with a
// value, and the engine's own words (causes, ACL actions, connection
// states) as a language says them. The window passes its language's;
// the command line and the journal's files use English.
type Words struct {
	CleanStart                   string // "clean start"
	KeepAlive, SessionExpiry     string // "keepalive %ds"
	Will, Cert                   string // "will %s"
	FilterRefused, FilterGranted string // "%s refused 0x%02X", "%s qos %d"
	Cause                        func(Cause) string
	Action, State                func(string) string
}

// English are the words of Summary.
var English = Words{
	CleanStart: "clean start", KeepAlive: "keepalive %ds", SessionExpiry: "session expiry %ds",
	Will: "will %s", Cert: "cert %s", FilterRefused: "%s refused 0x%02X", FilterGranted: "%s qos %d",
	Cause:  func(c Cause) string { return string(c) },
	Action: func(a string) string { return a },
	State:  func(s string) string { return s },
}

// Summary says an event in one line for people: what it is about beyond
// its time, kind and client.
func (e Event) Summary() string { return e.SummaryIn(English) }

// SummaryIn is Summary in w's words: the same facts in the same order.
// MQTT reason strings, protocol versions, topics and URLs stay as they are.
func (e Event) SummaryIn(w Words) string {
	var parts []string
	add := func(format string, v ...any) { parts = append(parts, fmt.Sprintf(format, v...)) }
	switch e.Kind {
	case Connect:
		add("v%s", ProtocolVersion(e.Protocol))
		if e.CleanStart {
			add("%s", w.CleanStart)
		}
		add(w.KeepAlive, e.KeepAlive)
		if e.SessionExpiry > 0 {
			add(w.SessionExpiry, e.SessionExpiry)
		}
		if e.WillTopic != "" {
			add(w.Will, e.WillTopic)
		}
		if e.CertSubject != "" {
			add(w.Cert, e.CertSubject)
		}
	case Refused:
		add("0x%02X %s", e.Code, e.Reason)
	case Disconnect:
		add("%s", w.Cause(e.Cause))
		if e.Code != 0 || e.Cause == CauseClient {
			add("0x%02X", e.Code)
		}
		if e.Reason != "" {
			add("%s", e.Reason)
		}
	case Subscribe, Unsubscribe:
		for _, f := range e.Filters {
			switch {
			case e.Kind == Unsubscribe:
				add("%s", f.Filter)
			case f.Granted < 0:
				add(w.FilterRefused, f.Filter, f.Code)
			default:
				add(w.FilterGranted, f.Filter, f.Granted)
			}
		}
	case Denied:
		add("%s %s", w.Action(e.Action), e.Topic)
	case Remote:
		add("%s", w.State(e.State))
		if e.URL != "" {
			add("%s", e.URL)
		}
		if e.Reason != "" {
			add("%s", e.Reason)
		}
	}
	return strings.Join(parts, ", ")
}

// ProtocolVersion is an MQTT protocol level as its version number ("3.1.1"),
// as the event summaries show it.
func ProtocolVersion(v byte) string {
	switch v {
	case 3:
		return "3.1"
	case 4:
		return "3.1.1"
	case 5:
		return "5"
	}
	return fmt.Sprint(v)
}
