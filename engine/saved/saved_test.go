package saved

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

func fullMessage(name string) Message {
	pf, exp := byte(1), uint32(60)
	return Message{Name: name, Format: "json", Message: client.Message{
		Topic: "lab/" + name, Payload: []byte(`{"on":true}`), QoS: 2, Retain: true,
		ContentType: "application/json", PayloadFormat: &pf, MessageExpiry: &exp,
		ResponseTopic: "lab/replies", CorrelationData: []byte{0, 1, 0xff},
		UserProps: []message.UserProp{{Key: "k", Value: "v"}, {Key: "k", Value: "second"}},
	}}
}

func TestStoreRoundTripThroughTheFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Collections()) != 0 {
		t.Fatalf("new store has %v", s.Collections())
	}
	binary := Message{Name: "raw", Format: "hex", Message: client.Message{Topic: "lab/raw", Payload: []byte{0x00, 0xff, 0xfe}}}
	for _, put := range []struct {
		col string
		m   Message
	}{{"lamp", fullMessage("on")}, {"lamp", binary}, {"pump", fullMessage("start")}} {
		if err := s.Put(put.col, put.m); err != nil {
			t.Fatal(err)
		}
	}
	replaced := fullMessage("on")
	replaced.Payload = []byte(`{"on":false}`)
	if err := s.Put("lamp", replaced); err != nil {
		t.Fatal(err)
	}

	reopened, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Collection{
		{Name: "lamp", Messages: []Message{replaced, binary}},
		{Name: "pump", Messages: []Message{fullMessage("start")}},
	}
	if got := reopened.Collections(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening:\n got %+v\nwant %+v", got, want)
	}
	if m, ok := reopened.Find("lamp", "raw"); !ok || !bytes.Equal(m.Payload, binary.Payload) {
		t.Fatalf("Find lamp/raw = %+v, %v", m, ok)
	}

	// Text stays readable in the file; binary is base64.
	b, err := os.ReadFile(filepath.Join(dir, SavedFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"payload": "{\"on\":false}"`, `"payload_base64": "AP/+"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("file lacks %s:\n%s", want, b)
		}
	}

	if err := reopened.Delete("pump", "start"); err != nil {
		t.Fatal(err)
	}
	if err := reopened.Delete("pump", "start"); err == nil || !strings.Contains(err.Error(), "no such saved message") {
		t.Fatalf("deleting twice: %v", err)
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cols := again.Collections(); len(cols) != 1 || cols[0].Name != "lamp" {
		t.Fatalf("the emptied collection is still there: %+v", cols)
	}
}

func TestStorePutRefusesBadInput(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bad := func(mut func(*Message)) Message { m := fullMessage("x"); mut(&m); return m }
	cases := []struct {
		name, col string
		m         Message
		errHas    string
	}{
		{"no collection", "", fullMessage("x"), "the collection needs a name"},
		{"slash in collection", "a/b", fullMessage("x"), "use no '/'"},
		{"no name", "c", bad(func(m *Message) { m.Name = " " }), "the message needs a name"},
		{"wildcard topic", "c", bad(func(m *Message) { m.Topic = "a/#" }), "'#' is a wildcard"},
		{"empty topic", "c", bad(func(m *Message) { m.Topic = "" }), "the topic is empty"},
		{"qos", "c", bad(func(m *Message) { m.QoS = 3 }), "QoS 3"},
		{"response topic", "c", bad(func(m *Message) { m.ResponseTopic = "r/+" }), "response topic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Put(c.col, c.m); err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("Put = %v, want an error with %q", err, c.errHas)
			}
		})
	}
	if len(s.Collections()) != 0 {
		t.Fatalf("refused messages were kept: %+v", s.Collections())
	}
}

func TestCorruptFilesAreReportedAndKept(t *testing.T) {
	for _, c := range []struct {
		file   string
		open   func(dir string) error
		body   string
		errHas []string
	}{
		{SavedFile, func(d string) error { _, err := Open(d); return err }, "{\"version\": 1,\n \"collections\": [}", []string{SavedFile, "line 2, column 18", "move it aside"}},
		{SavedFile, func(d string) error { _, err := Open(d); return err }, `{"version": 9, "collections": []}`, []string{"version 9", "reads version 1"}},
		{SavedFile, func(d string) error { _, err := Open(d); return err }, `{"version": 1, "collections": [{"name":"c","messages":[{"topic":"t","colour":"red"}]}]}`, []string{`unknown field "colour"`}},
		{HistoryFile, func(d string) error { _, err := OpenHistory(d, 0); return err }, "not json", []string{HistoryFile, "line 1, column 2", "will not overwrite it"}},
	} {
		t.Run(c.file+" "+c.errHas[0], func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, c.file)
			if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
				t.Fatal(err)
			}
			err := c.open(dir)
			if err == nil {
				t.Fatal("a damaged file opened")
			}
			for _, want := range c.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if b, _ := os.ReadFile(path); string(b) != c.body {
				t.Fatalf("the damaged file was changed to %q", b)
			}
		})
	}
}

func TestHistoryIsCappedNewestFirstAndPersisted(t *testing.T) {
	dir := t.TempDir()
	h, err := OpenHistory(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		m := fullMessage("")
		m.Topic = "lab/" + string(rune('a'+i))
		if err := h.Add(Entry{Time: start.Add(time.Duration(i) * time.Second), Connection: "Local broker", Count: i + 1, Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	reopened, err := OpenHistory(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	got := reopened.Entries()
	var topics []string
	for _, e := range got {
		topics = append(topics, e.Message.Topic)
	}
	if !reflect.DeepEqual(topics, []string{"lab/e", "lab/d", "lab/c"}) {
		t.Fatalf("history topics %v, want the 3 newest first", topics)
	}
	if e := got[0]; !e.Time.Equal(start.Add(4*time.Second)) || e.Count != 5 || e.Connection != "Local broker" || !reflect.DeepEqual(e.Message.UserProps, fullMessage("").UserProps) {
		t.Fatalf("newest entry read back as %+v", e)
	}
	smaller, err := OpenHistory(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(smaller.Entries()); n != 2 {
		t.Fatalf("a history opened with limit 2 holds %d", n)
	}
}

func TestSplitRef(t *testing.T) {
	for _, c := range []struct{ ref, col, name string }{
		{"lamp/on", "lamp", "on"},
		{"lamp/on/off", "lamp", "on/off"},
		{"lamp", "", ""}, {"/on", "", ""}, {"lamp/", "", ""},
	} {
		col, name, err := SplitRef(c.ref)
		if col != c.col || name != c.name || (err != nil) != (c.col == "") {
			t.Errorf("SplitRef(%q) = %q, %q, %v", c.ref, col, name, err)
		}
	}
}

func TestJSONErrorAt(t *testing.T) {
	for _, c := range []struct {
		in        string
		line, col int
	}{
		{`{"a": 1,}`, 1, 9},
		{"{\n  \"a\": tru\n}", 2, 11}, // the newline that ends "tru"
		{"{\"é\": x}", 1, 7},          // columns count characters, not bytes
		{`{"a":`, 1, 5},               // unexpected end: at the last character
	} {
		var v any
		err := json.Unmarshal([]byte(c.in), &v)
		line, col, ok := JSONErrorAt([]byte(c.in), err)
		if !ok || line != c.line || col != c.col {
			t.Errorf("%q (%v): line %d col %d ok %v, want line %d col %d", c.in, err, line, col, ok, c.line, c.col)
		}
	}
	if _, _, ok := JSONErrorAt(nil, os.ErrNotExist); ok {
		t.Error("a non-syntax error has a position")
	}
}
