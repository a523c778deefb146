package remote

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Bad requests are answered in words and change nothing; the end of the
// input stops the run, since the driver is gone.
func TestServeAnswersBadRequestsAndStopsAtTheEndOfItsInput(t *testing.T) {
	in := strings.NewReader(`{"id":1,"op":"explode"}` + "\n" +
		`not json` + "\n" +
		`{"id":2,"op":"kill","device":"nobody"}` + "\n" +
		`{"id":3,"op":"command","device":"nobody","topic":"a/+/b"}` + "\n" +
		`{"id":4,"op":"devices"}` + "\n")
	var mu sync.Mutex
	var got []Reply
	write := func(v any) {
		b, _ := json.Marshal(v)
		var r Reply
		_ = json.Unmarshal(b, &r)
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}
	stopped := 0
	Serve(context.Background(), in, write, nil, func() { stopped++ })
	want := []struct {
		id    uint64
		error string
	}{
		{1, `unknown operation "explode"`},
		{0, "a request line is not JSON"},
		{2, `no device "nobody" in this run`},
		{3, `command topic "a/+/b"`},
		{4, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d replies, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].ID != w.id || !strings.Contains(got[i].Error, w.error) || w.error == "" && got[i].Error != "" {
			t.Errorf("reply %d: %+v, want id %d and an error containing %q", i, got[i], w.id, w.error)
		}
	}
	if stopped != 1 {
		t.Fatalf("stop called %d times at the end of the input, want once", stopped)
	}
}
