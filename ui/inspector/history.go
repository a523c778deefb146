package inspector

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
)

const (
	// maxEntries and maxEntryBytes bound the history the inspector holds
	// (payload bytes; the newest message always stays, whatever its size).
	// Past them the oldest entries go, and Load older fetches them again.
	maxEntries    = 2000
	maxEntryBytes = 64 << 20
	// pageSize is how many older messages one Load older adds.
	pageSize = 100
)

// entry is one row of the history: a message, or a marker for messages
// that arrived and left the model's RAM between two refreshes.
type entry struct {
	rec    message.Message
	stored bool   // read from the capture store rather than the model's RAM
	missed uint64 // a marker: how many messages are not listed here
}

// history is the shown topic's messages, newest first, contiguous except
// where a marker says messages are missing.
type history struct {
	ents  []*entry
	bytes int    // payload bytes held
	msgs  uint64 // the topic's message count when ents[0] was its last
}

func (h *history) reset(ram []message.Message, msgs uint64) {
	h.ents, h.bytes, h.msgs = nil, 0, msgs
	h.appendRecs(ram, false)
}

func (h *history) appendRecs(recs []message.Message, stored bool) {
	for _, r := range recs {
		h.ents = append(h.ents, &entry{rec: r, stored: stored})
		h.bytes += len(r.Payload)
	}
}

// prepend adds what arrived since the last look: ram is the model's
// history (newest first) now, msgs its message count now. The count says
// exactly how many messages are new, so no payload needs comparing; when
// more arrived than RAM still holds, a marker records how many are missing
// between the new ones and the ones already listed. It returns how many
// rows were added.
func (h *history) prepend(ram []message.Message, msgs uint64) int {
	if msgs <= h.msgs {
		h.msgs = msgs
		return 0
	}
	n := msgs - h.msgs
	h.msgs = msgs
	take := ram
	var missed uint64
	if n < uint64(len(ram)) {
		take = ram[:n]
	} else {
		missed = n - uint64(len(ram))
	}
	rows := make([]*entry, 0, len(take)+1+len(h.ents))
	for _, r := range take {
		rows = append(rows, &entry{rec: r})
		h.bytes += len(r.Payload)
	}
	if missed > 0 && len(h.ents) > 0 {
		rows = append(rows, &entry{missed: missed})
	}
	added := len(rows)
	h.ents = append(rows, h.ents...)
	return added
}

// trim drops the oldest rows beyond maxEntries and maxEntryBytes and
// reports whether it dropped any. A marker is never left last: the list
// ends with a message, which older pages continue from.
func (h *history) trim() bool {
	trimmed := false
	for len(h.ents) > 1 && (len(h.ents) > maxEntries || h.bytes > maxEntryBytes) {
		h.dropLast()
		trimmed = true
	}
	for len(h.ents) > 1 && h.ents[len(h.ents)-1].missed > 0 {
		h.dropLast()
		trimmed = true
	}
	return trimmed
}

func (h *history) dropLast() {
	last := h.ents[len(h.ents)-1]
	h.bytes -= len(last.rec.Payload)
	h.ents[len(h.ents)-1] = nil
	h.ents = h.ents[:len(h.ents)-1]
}

// index returns e's row, or -1.
func (h *history) index(e *entry) int {
	for i, x := range h.ents {
		if x == e {
			return i
		}
	}
	return -1
}

// before returns the message that came right before e, or nil when it is
// not listed (e is the oldest, or a marker says messages are missing).
func (h *history) before(e *entry) *entry {
	i := h.index(e)
	if i < 0 || i+1 >= len(h.ents) || h.ents[i+1].missed > 0 {
		return nil
	}
	return h.ents[i+1]
}

// oldest returns the oldest listed message, or nil.
func (h *history) oldest() *entry {
	for i := len(h.ents) - 1; i >= 0; i-- {
		if h.ents[i].missed == 0 {
			return h.ents[i]
		}
	}
	return nil
}

// counts returns how many rows are messages from RAM, from the store, and
// how many messages markers say are missing.
func (h *history) counts() (ram, stored int, missed uint64) {
	for _, e := range h.ents {
		switch {
		case e.missed > 0:
			missed += e.missed
		case e.stored:
			stored++
		default:
			ram++
		}
	}
	return ram, stored, missed
}

// olderState is how the history continues into the capture store. The
// model's RAM holds a topic's newest messages, the store all of them: older
// pages are the store's messages received before the oldest one listed.
// Until is one nanosecond after that message's time (Query's Until is
// exclusive, and messages can share a time), and the listed messages at or
// before it are passed along so the store's copies of them are skipped.
type olderState struct {
	seq     uint64 // changes when paging restarts; pages of an earlier seq are dropped
	until   time.Time
	cursor  string
	done    bool // the store has nothing older
	loading bool
	full    bool // maxEntries reached
	err     error
}

// pageReq asks the store goroutine for the next older page.
type pageReq struct {
	gen, seq      uint64
	source, topic string
	until         time.Time
	cursor        string
	listed        []message.Message // at or before until, for skipping duplicates
	store         *capture.Store
	limit         int
}

// restartOlder makes the next page continue from the oldest listed
// message.
func (in *Inspector) restartOlder() {
	st := &in.st
	st.older = olderState{seq: st.older.seq + 1}
	if o := st.h.oldest(); o != nil {
		st.older.until = o.rec.Time.Add(time.Nanosecond)
	}
	// The store cannot be queried for the empty topic. Without a store,
	// paging is not done: one may open later (see capture), and Load
	// older then continues from here.
	if st.sum.Topic == "" {
		st.older.done = true
	}
}

// onLoadOlder asks for the next page of older messages.
func (in *Inspector) onLoadOlder() {
	st := &in.st
	o := &st.older
	store := in.capture()
	if store == nil || o.loading || o.done || o.full || st.h.oldest() == nil {
		return
	}
	limit := min(pageSize, maxEntries-len(st.h.ents))
	if limit <= 0 {
		o.full = true
		in.updateHistoryStatus()
		return
	}
	var listed []message.Message
	for _, e := range st.h.ents {
		if e.missed == 0 && e.rec.Time.Before(o.until) {
			listed = append(listed, e.rec)
		}
	}
	o.loading, o.err = true, nil
	in.pages.put(pageReq{
		gen: st.gen, seq: o.seq, source: st.sum.Source, topic: st.sum.Topic,
		until: o.until, cursor: o.cursor, listed: listed, store: store,
		limit: limit,
	})
	in.updateHistoryStatus()
}

// loadOlder runs on the store goroutine.
func (in *Inspector) loadOlder(ctx context.Context, q pageReq) {
	recs, next, err := fetchOlder(ctx, q)
	if ctx.Err() != nil {
		return
	}
	in.do(func() { in.applyOlder(q.gen, q.seq, recs, next, err) })
}

// fetchOlder reads store pages until it has q.limit messages of q's
// source that are not listed yet, or the store has no more. Query matches
// the topic only, so messages of other sources on the same topic name are
// skipped here.
func fetchOlder(ctx context.Context, q pageReq) ([]message.Message, string, error) {
	var out []message.Message
	cursor := q.cursor
	for {
		page, next, err := q.store.Query(ctx, capture.Query{
			Filter: q.topic, Until: q.until, Newest: true, Limit: q.limit - len(out), Cursor: cursor,
		})
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", q.topic, err)
		}
		for _, r := range page {
			if r.Source == q.source && !listed(q.listed, &r) {
				out = append(out, r)
			}
		}
		cursor = next
		if next == "" || len(out) >= q.limit {
			return out, next, nil
		}
	}
}

// listed reports whether r is one of ls: same time, publisher and
// payload. The store numbers records but the model does not (its Seq is
// 0), and both record the broker's receive time, so these identify it.
func listed(ls []message.Message, r *message.Message) bool {
	for i := range ls {
		l := &ls[i]
		if l.Time.Equal(r.Time) && l.ClientID == r.ClientID && bytes.Equal(l.Payload, r.Payload) {
			return true
		}
	}
	return false
}

// applyOlder adds a page of older messages on the UI goroutine.
func (in *Inspector) applyOlder(gen, seq uint64, recs []message.Message, next string, err error) {
	st := &in.st
	if gen != st.gen || seq != st.older.seq {
		return
	}
	o := &st.older
	o.loading = false
	if err != nil {
		o.err = err
		in.updateHistoryStatus()
		return
	}
	if room := maxEntries - len(st.h.ents); len(recs) >= room {
		recs = recs[:max(room, 0)]
		o.full = true
	}
	st.h.appendRecs(recs, true)
	o.cursor = next
	o.done = next == ""
	in.histList.Refresh()
	in.updateHistoryStatus()
	// The oldest message so far had nothing before it to compare with.
	in.requestView()
	in.requestChart()
}

// heldRead is the newest read of the shown node while the history is
// frozen: what following again applies.
type heldRead struct {
	sum  topics.NodeSummary
	hist []message.Message
}

// onFreeze freezes the history, or follows it again: frozen, new
// messages are only counted, so the list, its selection and the payload
// shown hold still while the person reads.
func (in *Inspector) onFreeze() {
	st := &in.st
	st.frozen = !st.frozen
	if st.frozen {
		in.freezeBtn.SetText(lang.L("Follow"))
		in.freezeBtn.SetIcon(theme.MediaPlayIcon())
	} else {
		in.freezeBtn.SetText(lang.L("Freeze"))
		in.freezeBtn.SetIcon(theme.MediaPauseIcon())
	}
	if held := st.held; !st.frozen && held != nil {
		st.held = nil
		in.applyNode(st.gen, held.sum, true, held.hist, false)
	}
	in.updateHistoryStatus()
}

// heldBack is how many messages arrived while the history was frozen.
func (st *state) heldBack() uint64 {
	if st.held == nil || st.held.sum.Messages <= st.h.msgs {
		return 0
	}
	return st.held.sum.Messages - st.h.msgs
}
