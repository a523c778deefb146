package sessionstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mochi-mqtt/server/v2/system"
)

// HookID is the ID the Hook reports to mochi.
const HookID = "iotstudio-sessions"

// Keys are laid out as in mochi's badger hook: <type>_<id>.
func clientKey(cl *mqtt.Client) string { return storage.ClientKey + "_" + cl.ID }

func subscriptionKey(cl *mqtt.Client, filter string) string {
	return storage.SubscriptionKey + "_" + cl.ID + ":" + filter
}

func retainedKey(topic string) string { return storage.RetainedKey + "_" + topic }

func inflightKey(cl *mqtt.Client, pk packets.Packet) string {
	return storage.InflightKey + "_" + cl.ID + ":" + pk.FormatID()
}

// ID returns the hook's ID.
func (h *Hook) ID() string { return HookID }

// Provides reports the same events as mochi's badger storage hook. mochi
// asks every hook on every event (several per message), so it is a switch.
func (h *Hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnSessionEstablished,
		mqtt.OnDisconnect,
		mqtt.OnSubscribed,
		mqtt.OnUnsubscribed,
		mqtt.OnRetainMessage,
		mqtt.OnWillSent,
		mqtt.OnQosPublish,
		mqtt.OnQosComplete,
		mqtt.OnQosDropped,
		mqtt.OnSysInfoTick,
		mqtt.OnClientExpired,
		mqtt.OnRetainedExpired,
		mqtt.StoredClients,
		mqtt.StoredInflightMessages,
		mqtt.StoredRetainedMessages,
		mqtt.StoredSubscriptions,
		mqtt.StoredSysInfo:
		return true
	}
	return false
}

// Init is called by AddHook. The Hook is configured by Open, so config must
// be nil; a stopped Hook cannot be added again.
func (h *Hook) Init(config any) error {
	if config != nil {
		return mqtt.ErrInvalidConfigType
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.stopped {
		return fmt.Errorf("sessionstore: %s: %w", h.dir, ErrStopped)
	}
	return nil
}

// OnSessionEstablished stores the client when its session is established.
func (h *Hook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) { h.updateClient(cl) }

// OnWillSent stores the client again, now without its sent will.
func (h *Hook) OnWillSent(cl *mqtt.Client, _ packets.Packet) { h.updateClient(cl) }

func (h *Hook) updateClient(cl *mqtt.Client) {
	props := cl.Properties.Props.Copy(false)
	in := &storage.Client{
		ID:              cl.ID,
		T:               storage.ClientKey,
		Remote:          cl.Net.Remote,
		Listener:        cl.Net.Listener,
		Username:        cl.Properties.Username,
		Clean:           cl.Properties.Clean,
		ProtocolVersion: cl.Properties.ProtocolVersion,
		Properties: storage.ClientProperties{
			SessionExpiryInterval: props.SessionExpiryInterval,
			// mochi's badger hook drops the two flags; without
			// SessionExpiryIntervalFlag a restored v5 session falls back to
			// the server's maximum expiry instead of the client's own.
			SessionExpiryIntervalFlag: props.SessionExpiryIntervalFlag,
			RequestProblemInfoFlag:    props.RequestProblemInfoFlag,
			AuthenticationMethod:      props.AuthenticationMethod,
			AuthenticationData:        props.AuthenticationData,
			RequestProblemInfo:        props.RequestProblemInfo,
			RequestResponseInfo:       props.RequestResponseInfo,
			ReceiveMaximum:            props.ReceiveMaximum,
			TopicAliasMaximum:         props.TopicAliasMaximum,
			User:                      props.User,
			MaximumPacketSize:         props.MaximumPacketSize,
		},
		Will: storage.ClientWill(cl.Properties.Will),
	}
	h.set(clientKey(cl), in)
}

// OnDisconnect stores the client, then deletes it if its session ends with
// the connection (expire) — unless the session was taken over by a new
// connection with the same client ID, which now owns the record.
func (h *Hook) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	h.updateClient(cl)
	if !expire {
		return
	}
	if errors.Is(cl.StopCause(), packets.ErrSessionTakenOver) {
		return
	}
	h.del(clientKey(cl))
}

// OnSubscribed stores each granted subscription.
func (h *Hook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, reasonCodes []byte) {
	for i, f := range pk.Filters {
		var qos byte
		if i < len(reasonCodes) {
			qos = reasonCodes[i]
		}
		in := &storage.Subscription{
			ID:                subscriptionKey(cl, f.Filter),
			T:                 storage.SubscriptionKey,
			Client:            cl.ID,
			Qos:               qos,
			Filter:            f.Filter,
			Identifier:        f.Identifier,
			NoLocal:           f.NoLocal,
			RetainHandling:    f.RetainHandling,
			RetainAsPublished: f.RetainAsPublished,
		}
		h.set(in.ID, in)
	}
}

// OnUnsubscribed deletes the client's subscriptions to the given filters.
func (h *Hook) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	for _, f := range pk.Filters {
		h.del(subscriptionKey(cl, f.Filter))
	}
}

// OnRetainMessage stores a retained message, or deletes the topic's retained
// message when r == -1 (mochi's signal for a retained publish with an empty
// payload).
func (h *Hook) OnRetainMessage(cl *mqtt.Client, pk packets.Packet, r int64) {
	if r == -1 {
		h.del(retainedKey(pk.TopicName))
		return
	}
	props := pk.Properties.Copy(false)
	in := &retainedMessage{Message: storage.Message{
		ID:          retainedKey(pk.TopicName),
		T:           storage.RetainedKey,
		FixedHeader: pk.FixedHeader,
		TopicName:   pk.TopicName,
		Payload:     pk.Payload,
		Created:     pk.Created,
		Client:      cl.ID,
		Origin:      pk.Origin,
		Properties:  messageProperties(props),
	}, ProtocolVersion: cl.Properties.ProtocolVersion, At: time.Now().UnixNano()}
	h.set(in.ID, in)
}

// retainedMessage is a stored retained message: mochi's record, plus the
// protocol version its publisher spoke, which mochi's record has no field
// for and the inspector shows. Records stored before it was added read
// as version 0, "not recorded".
type retainedMessage struct {
	storage.Message
	ProtocolVersion byte `json:"protocolVersion,omitempty"`
	// At is when it was stored, in unix ns: mochi's Created is whole
	// seconds, and the window shows milliseconds.
	At int64 `json:"at,omitempty"`
}

func (m *retainedMessage) MarshalBinary() ([]byte, error) { return json.Marshal(m) }
func (m *retainedMessage) UnmarshalBinary(b []byte) error { return json.Unmarshal(b, m) }

// RetainedOrigin is what the store knows of a retained message beyond
// what mochi restores.
//
// An alias of an unnamed struct, identical to broker.RetainedOrigin, so
// the Hook is a broker.SessionStore without importing the broker.
type RetainedOrigin = struct {
	Created         int64 // as in the restored packet: tells it from a newer one
	ProtocolVersion byte  // 0: not recorded
	At              int64 // unix ns it was stored; 0: not recorded
}

// RetainedOrigins returns, by topic, what RetainedOrigin says of each
// stored retained message whose protocol version or time is known.
func (h *Hook) RetainedOrigins() (map[string]RetainedOrigin, error) {
	msgs, err := loadAll[retainedMessage](h, storage.RetainedKey+"_")
	if err != nil {
		return nil, err
	}
	out := make(map[string]RetainedOrigin, len(msgs))
	for _, m := range msgs {
		if m.ProtocolVersion != 0 || m.At != 0 {
			out[m.TopicName] = RetainedOrigin{Created: m.Created, ProtocolVersion: m.ProtocolVersion, At: m.At}
		}
	}
	return out, nil
}

// OnQosPublish stores (or updates) an inflight QoS 1/2 message.
func (h *Hook) OnQosPublish(cl *mqtt.Client, pk packets.Packet, sent int64, _ int) {
	if !worthKeeping(cl, pk) {
		return
	}
	props := pk.Properties.Copy(false)
	in := &storage.Message{
		ID:          inflightKey(cl, pk),
		T:           storage.InflightKey,
		Client:      cl.ID,
		Origin:      pk.Origin,
		PacketID:    pk.PacketID,
		FixedHeader: pk.FixedHeader,
		TopicName:   pk.TopicName,
		Payload:     pk.Payload,
		Sent:        sent,
		Created:     pk.Created,
		Properties:  messageProperties(props),
	}
	h.set(in.ID, in)
}

// OnQosComplete deletes a resolved inflight message.
func (h *Hook) OnQosComplete(cl *mqtt.Client, pk packets.Packet) {
	if worthKeeping(cl, pk) {
		h.del(inflightKey(cl, pk))
	}
}

// worthKeeping says whether an inflight message can matter after a restart.
// A session that ends with its connection (clean session, or MQTT 5 expiry
// 0) is gone by then anyway, and an inbound QoS 1 ack is stored and
// resolved inside one mochi call. Skipping both took four store operations
// per QoS 1 message off the broker's publish path (docs/PERFORMANCE.md).
func worthKeeping(cl *mqtt.Client, pk packets.Packet) bool {
	return SessionOutlivesConnection(cl) && pk.FixedHeader.Type != packets.Puback
}

// SessionOutlivesConnection reports whether cl's session survives its
// connection (3.1.1 clean session 0, or MQTT 5 with a session expiry), i.e.
// whether what the broker queues for it is worth storing.
func SessionOutlivesConnection(cl *mqtt.Client) bool {
	if cl.Properties.ProtocolVersion == 5 {
		return cl.Properties.Props.SessionExpiryInterval != 0
	}
	return !cl.Properties.Clean
}

// OnQosDropped deletes a dropped inflight message.
func (h *Hook) OnQosDropped(cl *mqtt.Client, pk packets.Packet) { h.OnQosComplete(cl, pk) }

// OnSysInfoTick stores the latest $SYS values.
func (h *Hook) OnSysInfoTick(sys *system.Info) {
	in := &storage.SystemInfo{
		ID:   storage.SysInfoKey,
		T:    storage.SysInfoKey,
		Info: *sys.Clone(),
	}
	h.set(in.ID, in)
}

// OnRetainedExpired deletes an expired retained message.
func (h *Hook) OnRetainedExpired(topic string) { h.del(retainedKey(topic)) }

// OnClientExpired deletes an expired client. Like mochi's badger hook it
// leaves that client's subscription and inflight records in place.
func (h *Hook) OnClientExpired(cl *mqtt.Client) { h.del(clientKey(cl)) }

func messageProperties(p packets.Properties) storage.MessageProperties {
	return storage.MessageProperties{
		PayloadFormat:          p.PayloadFormat,
		MessageExpiryInterval:  p.MessageExpiryInterval,
		ContentType:            p.ContentType,
		ResponseTopic:          p.ResponseTopic,
		CorrelationData:        p.CorrelationData,
		SubscriptionIdentifier: p.SubscriptionIdentifier,
		TopicAlias:             p.TopicAlias,
		User:                   p.User,
	}
}

// StoredClients returns the clients stored in Badger. Like all Stored*
// methods it reads the disk, not the queue: call Flush first to include
// recent changes. mochi calls these once, in Serve, before any listener.
func (h *Hook) StoredClients() ([]storage.Client, error) {
	return loadAll[storage.Client](h, storage.ClientKey+"_")
}

// StoredSubscriptions returns the subscriptions stored in Badger.
func (h *Hook) StoredSubscriptions() ([]storage.Subscription, error) {
	return loadAll[storage.Subscription](h, storage.SubscriptionKey+"_")
}

// StoredRetainedMessages returns the retained messages stored in Badger.
func (h *Hook) StoredRetainedMessages() ([]storage.Message, error) {
	msgs, err := loadAll[retainedMessage](h, storage.RetainedKey+"_")
	if err != nil {
		return nil, err
	}
	out := make([]storage.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m.Message
	}
	return out, nil
}

// StoredInflightMessages returns the inflight messages stored in Badger.
func (h *Hook) StoredInflightMessages() ([]storage.Message, error) {
	return loadAll[storage.Message](h, storage.InflightKey+"_")
}

// StoredSysInfo returns the stored $SYS values (zero if none).
func (h *Hook) StoredSysInfo() (storage.SystemInfo, error) {
	var v storage.SystemInfo
	err := h.view(func(txn *badgerdb.Txn) error {
		item, err := txn.Get([]byte(storage.SysInfoKey))
		if errors.Is(err, badgerdb.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(v.UnmarshalBinary)
	})
	if err != nil {
		return storage.SystemInfo{}, fmt.Errorf("sessionstore: read sys info from %s: %w", h.dir, err)
	}
	return v, nil
}

// view runs fn in a read transaction unless the Hook is stopped.
func (h *Hook) view(fn func(*badgerdb.Txn) error) error {
	h.dbMu.RLock()
	defer h.dbMu.RUnlock()
	if h.db.IsClosed() {
		return ErrStopped
	}
	return h.db.View(fn)
}

// loadAll decodes every record under prefix. A record that does not decode
// fails the load, as in mochi: a half-restored broker is worse than a clear
// error.
func loadAll[T any, PT interface {
	*T
	UnmarshalBinary([]byte) error
}](h *Hook, prefix string) ([]T, error) {
	out := make([]T, 0)
	err := h.view(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Seek([]byte(prefix)); it.ValidForPrefix([]byte(prefix)); it.Next() {
			var v T
			item := it.Item()
			if err := item.Value(PT(&v).UnmarshalBinary); err != nil {
				return fmt.Errorf("record %q: %w", item.Key(), err)
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sessionstore: read %s records from %s: %w", prefix, h.dir, err)
	}
	return out, nil
}
