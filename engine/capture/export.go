package capture

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/message"
)

// jsonRecord is the lossless JSON form of a Record: the payload as UTF-8
// text when it is valid UTF-8, otherwise base64 with "payload_base64": true.
type jsonRecord struct {
	Seq             uint64             `json:"seq,omitempty"` // 0: not from a capture (connect --format jsonl)
	Time            time.Time          `json:"time"`
	Source          string             `json:"source"`
	ClientID        string             `json:"client_id,omitempty"` // "": the publisher is unknown (a remote broker's messages)
	Protocol        byte               `json:"protocol"`
	Topic           string             `json:"topic"`
	Payload         string             `json:"payload"`
	PayloadBase64   bool               `json:"payload_base64,omitempty"`
	QoS             byte               `json:"qos"`
	Retain          bool               `json:"retain"`
	PayloadFormat   *byte              `json:"payload_format,omitempty"`
	ContentType     string             `json:"content_type,omitempty"`
	MessageExpiry   *uint32            `json:"message_expiry,omitempty"`
	ResponseTopic   string             `json:"response_topic,omitempty"`
	CorrelationData []byte             `json:"correlation_data,omitempty"` // base64, as encoding/json does for []byte
	UserProps       []message.UserProp `json:"user_properties,omitempty"`
}

func toJSON(r message.Message) jsonRecord {
	j := jsonRecord{
		Seq: r.Seq, Time: r.Time, Source: r.Source, ClientID: r.ClientID, Protocol: r.Protocol,
		Topic: r.Topic, QoS: r.QoS, Retain: r.Retain, PayloadFormat: r.PayloadFormat,
		ContentType: r.ContentType, MessageExpiry: r.MessageExpiry, ResponseTopic: r.ResponseTopic,
		CorrelationData: r.CorrelationData, UserProps: r.UserProps,
	}
	if utf8.Valid(r.Payload) {
		j.Payload = string(r.Payload)
	} else {
		j.Payload, j.PayloadBase64 = base64.StdEncoding.EncodeToString(r.Payload), true
	}
	return j
}

// JSONLWriter writes one JSON object per line.
type JSONLWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSONLWriter writes records to w as JSON Lines.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONLWriter{w: bw, enc: enc}
}

func (j *JSONLWriter) Write(r message.Message) error {
	if err := j.enc.Encode(toJSON(r)); err != nil {
		return fmt.Errorf("write JSONL record %d: %w", r.Seq, err)
	}
	return nil
}

func (j *JSONLWriter) Flush() error { return j.w.Flush() }

// CSVHeader names the columns NewCSVWriter writes.
var CSVHeader = []string{"seq", "time", "source", "client_id", "protocol", "topic", "qos", "retain", "payload", "payload_base64", "content_type", "response_topic"}

// CSVWriter writes RFC 4180 CSV, one row per record, after a header row.
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter writes records to w as CSV.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

func (c *CSVWriter) Write(r message.Message) error {
	if !c.header {
		if err := c.w.Write(CSVHeader); err != nil {
			return err
		}
		c.header = true
	}
	j := toJSON(r)
	return c.w.Write([]string{
		strconv.FormatUint(j.Seq, 10), j.Time.Format(time.RFC3339Nano), j.Source, j.ClientID,
		strconv.Itoa(int(j.Protocol)), j.Topic, strconv.Itoa(int(j.QoS)), strconv.FormatBool(j.Retain),
		j.Payload, strconv.FormatBool(j.PayloadBase64), j.ContentType, j.ResponseTopic,
	})
}

func (c *CSVWriter) Flush() error {
	if !c.header {
		if err := c.w.Write(CSVHeader); err != nil {
			return err
		}
		c.header = true
	}
	c.w.Flush()
	return c.w.Error()
}
