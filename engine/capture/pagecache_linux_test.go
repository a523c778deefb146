package capture

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

func TestStoreMapping(t *testing.T) {
	dir := "/home/u/.config/iotstudio/capture"
	cases := []struct {
		line string
		ok   bool
	}{
		{"7f00a0000000-7f00a4000000 rw-s 00000000 fd:01 123 " + dir + "/000001.vlog", true},
		{"7f00a0000000-7f00a4000000 r--s 00000000 fd:01 123 " + dir + "/blocks/0000000001.blk", true},
		{"7f00a0000000-7f00a4000000 r--s 00000000 fd:01 123 " + dir + "/0000000001.blk", false},
		{"7f00a0000000-7f00a4000000 rw-s 00000000 fd:01 123 " + dir + "/00001.mem", false},
		{"7f00a0000000-7f00a4000000 rw-s 00000000 fd:01 123 /other/000001.vlog", false},
		{"7f00a0000000-7f00a4000000 rw-p 00000000 00:00 0 ", false},
		{"garbage", false},
	}
	for _, c := range cases {
		s, e, ok := storeMapping(c.line, dir)
		if ok != c.ok || (ok && (s != 0x7f00a0000000 || e != 0x7f00a4000000)) {
			t.Errorf("storeMapping(%q) = %x, %x, %v; want ok=%v", c.line, s, e, ok, c.ok)
		}
	}
}

// Writing 200 MB through the store leaves little of it counted in the
// process's resident size, and every record still reads back.
func TestWrittenBlocksDoNotStayResident(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MB")
	}
	dir := t.TempDir()
	s := openAt(t, dir, Options{MaxAge: -1, MaxBytes: -1})
	base := rssKB(t, "RssFile")
	payload := bytes.Repeat([]byte("r"), 1000)
	const n = 200_000
	for i := range n {
		ingest(t, s, message.Message{Time: time.Now(), Topic: fmt.Sprintf("rss/%d", i%10), Payload: payload})
		if i%20_000 == 19_999 {
			flush(t, s)
		}
	}
	flush(t, s)
	if grew := (rssKB(t, "RssFile") - base) / 1024; grew > 64 {
		t.Errorf("resident file pages grew by %d MB after writing 200 MB; want at most 64", grew)
	}
	recs, _ := query(t, s, Query{Filter: "rss/3", Limit: n})
	if len(recs) != n/10 || !bytes.Equal(recs[len(recs)-1].Payload, payload) {
		t.Fatalf("read back %d records of rss/3, want %d intact", len(recs), n/10)
	}
}
