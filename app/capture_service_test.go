package app

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// A query crosses the socket whole: every field the commands set comes
// back as it was, to the nanosecond.
func TestQueryURLRoundTrip(t *testing.T) {
	where, err := capture.CompileCondition(`temp > 30 && status == "alarm"`)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 10, 4, 5, 123456789, time.UTC)
	cases := []capture.Query{
		{Limit: 1},
		{Filter: "plant/+/power", Contains: "a&b=c #1", Where: where, Since: at, Until: at.Add(time.Hour), Newest: true, Cursor: "AQEAAAAAAAAAZA", Limit: 1000},
	}
	for _, q := range cases {
		got, err := queryFromURL(queryToURL(q))
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if got.Filter != q.Filter || got.Contains != q.Contains || got.Cursor != q.Cursor || got.Newest != q.Newest ||
			!got.Since.Equal(q.Since) || !got.Until.Equal(q.Until) || got.Limit != q.Limit ||
			(q.Where == nil) != (got.Where == nil) || (q.Where != nil && got.Where.String() != q.Where.String()) {
			t.Errorf("sent %+v, got %+v", q, got)
		}
	}
}

func TestQueryFromURLBadInput(t *testing.T) {
	cases := []struct {
		query, want string
	}{
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"limit=5&since=yesterday", "since"},
		{"limit=5&where=temp+>", "condition"},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.query)
		if _, err := queryFromURL(v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %s", c.query, err, c.want)
		}
	}
	v, _ := url.ParseQuery("limit=0")
	if q, err := queryFromURL(v); err != nil || q.Limit != maxRemotePage {
		t.Errorf("limit=0: %d, %v; want a page of %d", q.Limit, err, maxRemotePage)
	}
}
