package saved

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Message is a publish without its connection.
type Message struct {
	// Name identifies the message in its collection; history entries have
	// none.
	Name string
	// Format is how the payload was written in the editor ("text", "json",
	// "hex", "base64"), so that it reopens the way it was typed.
	Format string
	// The publish itself: topic, payload, QoS, retain, MQTT 5 properties.
	client.Message
}

// FromClient keeps m, written in the editor's format, under name.
func FromClient(name, format string, m client.Message) Message {
	return Message{Name: name, Format: format, Message: m}
}

// ClientMessage is m as a connection publishes it.
func (m Message) ClientMessage() client.Message { return m.Message }

// Validate checks what every broker would refuse.
func (m Message) Validate() error {
	if _, err := message.ValidateTopicName(m.Topic); err != nil {
		return fmt.Errorf("topic %q: %w", m.Topic, err)
	}
	if m.QoS > 2 {
		return fmt.Errorf("QoS %d: use 0, 1 or 2", m.QoS)
	}
	if m.ResponseTopic != "" {
		if _, err := message.ValidateTopicName(m.ResponseTopic); err != nil {
			return fmt.Errorf("response topic %q: %w", m.ResponseTopic, err)
		}
	}
	return nil
}

// wireMessage is the file form: a text payload stays readable (and
// editable by hand); anything else is base64.
type wireMessage struct {
	Name            string             `json:"name,omitempty"`
	Topic           string             `json:"topic"`
	Payload         string             `json:"payload,omitempty"`
	PayloadBase64   string             `json:"payload_base64,omitempty"`
	Format          string             `json:"format,omitempty"`
	QoS             byte               `json:"qos"`
	Retain          bool               `json:"retain,omitempty"`
	ContentType     string             `json:"content_type,omitempty"`
	PayloadFormat   *byte              `json:"payload_format,omitempty"`
	MessageExpiry   *uint32            `json:"message_expiry,omitempty"`
	ResponseTopic   string             `json:"response_topic,omitempty"`
	CorrelationData []byte             `json:"correlation_data,omitempty"`
	UserProps       []wireUserProperty `json:"user_properties,omitempty"`
}

type wireUserProperty struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MarshalJSON writes the file form.
func (m Message) MarshalJSON() ([]byte, error) {
	w := wireMessage{
		Name: m.Name, Topic: m.Topic, Format: m.Format, QoS: m.QoS, Retain: m.Retain,
		ContentType: m.ContentType, PayloadFormat: m.PayloadFormat, MessageExpiry: m.MessageExpiry,
		ResponseTopic: m.ResponseTopic, CorrelationData: m.CorrelationData,
	}
	if utf8.Valid(m.Payload) {
		w.Payload = string(m.Payload)
	} else {
		w.PayloadBase64 = base64.StdEncoding.EncodeToString(m.Payload)
	}
	for _, u := range m.UserProps {
		w.UserProps = append(w.UserProps, wireUserProperty(u))
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the file form.
func (m *Message) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a typo in a hand-edited file should say so
	var w wireMessage
	if err := dec.Decode(&w); err != nil {
		return err
	}
	if w.Payload != "" && w.PayloadBase64 != "" {
		return fmt.Errorf("message %q has both payload and payload_base64; keep one", w.Name)
	}
	payload := []byte(w.Payload)
	if w.PayloadBase64 != "" {
		var err error
		if payload, err = base64.StdEncoding.DecodeString(w.PayloadBase64); err != nil {
			return fmt.Errorf("message %q: payload_base64: %w", w.Name, err)
		}
	}
	*m = Message{Name: w.Name, Format: w.Format, Message: client.Message{
		Topic: w.Topic, Payload: payload, QoS: w.QoS, Retain: w.Retain,
		ContentType: w.ContentType, PayloadFormat: w.PayloadFormat, MessageExpiry: w.MessageExpiry,
		ResponseTopic: w.ResponseTopic, CorrelationData: w.CorrelationData,
	}}
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	for _, u := range w.UserProps {
		m.UserProps = append(m.UserProps, message.UserProp(u))
	}
	return nil
}
