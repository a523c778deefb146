package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// HookID is the mochi hook ID of Hook.
const HookID = "iotstudio-auth"

// Hook is a mochi-mqtt hook that authenticates CONNECTs against a users file
// and enforces its ACLs on PUBLISH, SUBSCRIBE and every delivery.
//
// Modes, decided from NewHook's arguments:
//   - open: allowAnonymous and no users. Every client may connect (whatever
//     user name and password it sends) and counts as anonymous. This is the
//     zero-configuration broker, like mosquitto without a password file.
//   - otherwise a client without a user name connects only if allowAnonymous;
//     a client with a user name must match a user and its bcrypt hash, and
//     gets that user's ACL.
//
// Anonymous clients get the users file's AnonymousACL (none: full access).
//
// A will is a publish made later on the client's behalf, so it is checked at
// CONNECT like a publish, after the password: a will topic the client may
// not publish to, or one starting with '$' (reserved for the broker), is
// refused with CONNACK "not authorized"; one containing a wildcard with
// "topic name invalid" (MQTT 5; 3.1.1 has only "not authorized", 0x05).
//
// Counters: FailedLogins counts CONNECTs refused for their credentials;
// DeniedPublishes counts PUBLISH packets refused by the ACL and refused
// wills; DeniedSubscribes counts SUBSCRIBE filters refused by the ACL (one
// per failure reason code in a SUBACK).
// mochi also asks the ACL before delivering each message to a subscriber;
// those refusals are counted by DeniedDeliveries. They only happen when
// Reload tightened the ACL of a user with existing subscriptions, because a
// subscription granted by Allowed never matches a topic the user cannot read.
//
// Passwords are never logged.
type Hook struct {
	mqtt.HookBase
	state atomic.Pointer[snapshot]

	deniedPublishes  atomic.Int64
	deniedSubscribes atomic.Int64
	readDenials      atomic.Int64 // subscribes and deliveries
	failedLogins     atomic.Int64
}

// snapshot is an immutable copy of the users the hook enforces.
type snapshot struct {
	open         bool // allowAnonymous && no users: nobody logs in, everyone is anonymous
	unrestricted bool // open and no anonymous ACL: everything is allowed
	anonymous    bool
	anonACL      []Rule // empty: anonymous clients have full access
	users        map[string]*account
}

type account struct {
	hash []byte
	acl  []Rule
}

// NewHook returns a hook enforcing u (copied; later changes to u need Reload).
// allowAnonymous is the broker's decision whether clients without a user
// name may connect: the users file asks for it and every listener is on
// loopback, or there are no users at all.
func NewHook(u *Users, allowAnonymous bool) *Hook {
	h := &Hook{}
	h.Log = slog.New(slog.DiscardHandler) // replaced by Server.AddHook
	h.Reload(u, allowAnonymous)
	return h
}

// Reload atomically replaces the users and the anonymous decision. Connected
// clients keep their session; their next PUBLISH, SUBSCRIBE and delivery are
// checked against the new ACL.
func (h *Hook) Reload(u *Users, allowAnonymous bool) {
	st := &snapshot{anonymous: allowAnonymous, users: map[string]*account{}}
	if u != nil {
		st.anonACL = append([]Rule(nil), u.AnonymousACL...)
		for _, usr := range u.List {
			if usr.Name == "" {
				continue // never matches: anonymous clients are handled separately
			}
			st.users[usr.Name] = &account{
				hash: []byte(usr.PasswordHash),
				acl:  append([]Rule(nil), usr.ACL...),
			}
		}
	}
	st.open = allowAnonymous && len(st.users) == 0
	st.unrestricted = st.open && len(st.anonACL) == 0
	h.state.Store(st)
}

// ID returns the hook ID, "iotstudio-auth".
func (h *Hook) ID() string { return HookID }

// Provides reports the hook methods implemented here. mochi calls it for
// every ACL check, so it does not allocate.
func (h *Hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSubscribed:
		return true
	}
	return false
}

// OnConnectAuthenticate accepts or refuses a CONNECT. A client refused for
// its credentials gets CONNACK "bad user name or password" from mochi; one
// refused for its will gets the CONNACK described at Hook from here.
func (h *Hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	st := h.state.Load()
	if !h.authenticate(st, cl, pk) {
		return false
	}
	if !pk.Connect.WillFlag {
		return true
	}
	code, reason := st.willVerdict(pk.Connect.Username, pk.Connect.WillTopic)
	if code == packets.CodeSuccess {
		return true
	}
	h.refuseWill(cl, pk, code, reason)
	return false
}

func (h *Hook) authenticate(st *snapshot, cl *mqtt.Client, pk packets.Packet) bool {
	if st.open {
		return true
	}
	name := pk.Connect.Username
	if len(name) == 0 {
		if st.anonymous {
			return true
		}
		h.loginFailed(cl, "", "anonymous clients are not allowed; connect with a user name and password")
		return false
	}
	var hash []byte
	if a := st.users[string(name)]; a != nil {
		hash = a.hash
	}
	if !checkPassword(hash, pk.Connect.Password) {
		reason := "wrong password"
		if hash == nil {
			reason = "no such user"
		}
		h.loginFailed(cl, string(name), reason)
		return false
	}
	return true
}

// willVerdict says whether an authenticated user may leave a will on topic,
// and if not, the MQTT 5 CONNACK code and why.
func (st *snapshot) willVerdict(user []byte, topic string) (packets.Code, string) {
	switch {
	case strings.ContainsAny(topic, "+#\x00"):
		return packets.ErrTopicNameInvalid, "a will topic is a topic name: it may not contain the wildcards + or # (or NUL)"
	case strings.HasPrefix(topic, "$"):
		return packets.ErrNotAuthorized, "topics starting with $ are reserved for the broker"
	case !st.allowed(user, topic, true):
		return packets.ErrNotAuthorized, "the ACL does not allow this client to publish to the will topic"
	}
	return packets.CodeSuccess, ""
}

// shortTopic keeps a client-chosen topic (up to 64 KiB) from making a long
// log line.
func shortTopic(topic string) string {
	const limit = 200
	if len(topic) <= limit {
		return topic
	}
	return strings.ToValidUTF8(topic[:limit], "") + "…"
}

// refuseWill answers the CONNECT itself and closes the connection. mochi
// would follow a false OnConnectAuthenticate with "bad user name or
// password", which misleads the user; once the client is stopped, that
// CONNACK can no longer be written.
func (h *Hook) refuseWill(cl *mqtt.Client, pk packets.Packet, code packets.Code, reason string) {
	h.deniedPublishes.Add(1)
	h.Log.Warn("client will refused", "client", cl.ID, "username", string(pk.Connect.Username),
		"remote", cl.Net.Remote, "will_topic", shortTopic(pk.Connect.WillTopic), "reason", reason)
	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: code.Code}
	if cl.Properties.ProtocolVersion < 5 {
		ack.ReasonCode = packets.Err3NotAuthorized.Code // 3.1.1 has no "topic name invalid"
	} else {
		ack.Properties.ReasonString = reason
	}
	if err := cl.WritePacket(ack); err != nil {
		h.Log.Debug("cannot send will refusal", "client", cl.ID, "error", err)
	}
	cl.Stop(fmt.Errorf("will on %q refused: %s: %w", shortTopic(pk.Connect.WillTopic), reason, code))
}

func (h *Hook) loginFailed(cl *mqtt.Client, user, reason string) {
	h.failedLogins.Add(1)
	h.Log.Warn("client authentication failed",
		"client", cl.ID, "username", user, "remote", cl.Net.Remote, "reason", reason)
}

// OnACLCheck reports whether cl may publish to topic (write) or subscribe to
// filter / receive a message on topic (!write). Anonymous clients, which
// only get in when allowed, have the anonymous ACL.
func (h *Hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	st := h.state.Load()
	if st.unrestricted {
		return true
	}
	if st.allowed(cl.Properties.Username, topic, write) {
		return true
	}
	if write {
		h.deniedPublishes.Add(1)
	} else {
		h.readDenials.Add(1)
	}
	if h.Log.Enabled(context.Background(), slog.LevelDebug) {
		h.Log.Debug("ACL denied", "client", cl.ID, "username", string(cl.Properties.Username),
			"topic", topic, "write", write)
	}
	return false
}

func (st *snapshot) allowed(user []byte, topic string, write bool) bool {
	if st.open || len(user) == 0 {
		return st.anonymous && allowed(st.anonACL, topic, write)
	}
	a := st.users[string(user)] // no allocation for the lookup
	return a != nil && allowed(a.acl, topic, write)
}

// OnSubscribed counts the SUBSCRIBE filters this hook refused. mochi reports
// an ACL refusal as 0x87 (not authorized), or 0x80 for MQTT 3 clients and
// with ObscureNotAuthorized; the filter is re-checked so other failures
// (invalid filter, ...) are not counted.
func (h *Hook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, reasonCodes []byte) {
	st := h.state.Load()
	if st.unrestricted {
		return
	}
	for i, sub := range pk.Filters {
		if i >= len(reasonCodes) {
			break
		}
		c := reasonCodes[i]
		if (c == packets.ErrNotAuthorized.Code || c == packets.ErrUnspecifiedError.Code) &&
			mqtt.IsValidFilter(sub.Filter, false) && !st.allowed(cl.Properties.Username, sub.Filter, false) {
			h.deniedSubscribes.Add(1)
		}
	}
}

// DeniedPublishes is the number of PUBLISH packets refused by the ACL, plus
// the CONNECTs refused for their will.
func (h *Hook) DeniedPublishes() int64 { return h.deniedPublishes.Load() }

// DeniedSubscribes is the number of subscription filters refused by the ACL.
func (h *Hook) DeniedSubscribes() int64 { return h.deniedSubscribes.Load() }

// DeniedDeliveries is the number of messages not delivered to a subscriber
// because the ACL refused it (see Hook). It is derived from the read checks
// minus DeniedSubscribes, so while a SUBSCRIBE is being processed it can be
// one too high for an instant.
func (h *Hook) DeniedDeliveries() int64 {
	subs := h.deniedSubscribes.Load()
	if n := h.readDenials.Load() - subs; n > 0 {
		return n
	}
	return 0
}

// FailedLogins is the number of CONNECTs refused for their credentials.
func (h *Hook) FailedLogins() int64 { return h.failedLogins.Load() }
