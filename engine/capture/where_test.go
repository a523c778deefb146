package capture

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

func TestConditionMatch(t *testing.T) {
	cases := []struct {
		cond    string
		payload string
		want    bool
	}{
		{`temp > 30`, `{"temp": 31.5}`, true},
		{`temp > 30`, `{"temp": 29}`, false},
		{`status == "alarm"`, `{"status": "alarm", "temp": 10}`, true},
		{`status == "alarm"`, `{"status": "ok"}`, false},
		{`battery.level < 10 && !charging`, `{"battery": {"level": 5}, "charging": false}`, true},
		{`battery.level < 10 && !charging`, `{"battery": {"level": 5}, "charging": true}`, false},
		{`payload > 20`, `21.5`, true},
		{`temp > 30`, `not json`, false},
		{`temp > 30`, `{"humidity": 40}`, false},      // missing field
		{`temp > 30`, `{"temp": "hot"}`, false},       // wrong type
		{`"a" in tags`, `{"tags": ["a", "b"]}`, true}, // arrays
		// Fields named like expr's functions, common in payloads.
		{`count > 3`, `{"count": 5}`, true},
		{`max < 100 && len == 2`, `{"max": 90, "len": 2}`, true},
		{`count(tags, # == "a") == 1`, `{"tags": ["a", "b"]}`, true}, // the function, when called
	}
	for _, tc := range cases {
		c, err := CompileCondition(tc.cond)
		if err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		if got := c.Match([]byte(tc.payload)); got != tc.want {
			t.Errorf("%s on %s = %v, want %v", tc.cond, tc.payload, got, tc.want)
		}
	}
}

func TestConditionErrorsSayWhere(t *testing.T) {
	for _, src := range []string{`temp >`, `temp > > 3`, `status == "alarm`} {
		_, err := CompileCondition(src)
		if err == nil {
			t.Fatalf("%q compiled", src)
		}
		if !strings.Contains(err.Error(), src) || !strings.Contains(err.Error(), "^") {
			t.Errorf("%q: error %q does not quote the condition and point at the problem", src, err)
		}
	}
}

func TestQueryWhere(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{MaxAge: -1}) // records from 1970
	for i, p := range []string{`{"temp": 25}`, `{"temp": 35}`, `not json`, `{"temp": 40, "status": "alarm"}`} {
		s.Ingest(message.Message{Topic: "sensors/t", Payload: []byte(p), Time: time.Unix(int64(1000+i), 0)})
	}
	flush(t, s)
	hot, err := CompileCondition(`temp > 30`)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := s.Query(context.Background(), Query{Filter: "sensors/#", Where: hot})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || string(recs[0].Payload) != `{"temp": 35}` || string(recs[1].Payload) != `{"temp": 40, "status": "alarm"}` {
		t.Fatalf("temp > 30 matched %d records: %q", len(recs), payloads(recs))
	}
}

func payloads(recs []message.Message) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Payload))
	}
	return out
}
