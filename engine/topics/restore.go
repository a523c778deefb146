package topics

import "github.com/iotstudio/iotstudio/engine/message"

// Restore applies messages that reached the source before the model
// could see them, such as the retained messages a broker restores from its
// data dir when it starts, and returns how many it applied. Each record is
// applied only to a topic of its source that has no message in the model
// yet: any message the model has is at least as new, and so is any that is
// still queued, since Restore applies at once and the queue after it.
// Restored messages count in the tree's message counts but not in its
// rates, which measure what arrives now. Like Ingest, Restore keeps no
// reference to recs once it returns.
func (m *Model) Restore(recs []message.Message) int {
	applied := 0
	fresh := make([]message.Message, 0, min(len(recs), maxChunk))
	for i := 0; i < len(recs); i += maxChunk {
		chunk := recs[i:min(i+maxChunk, len(recs))]
		now := m.opts.clock()
		win, _ := m.window(now)
		m.mu.Lock()
		fresh = fresh[:0]
		for _, r := range chunk {
			if !m.t.hasMessage(r.Source, r.Topic) {
				fresh = append(fresh, r)
			}
		}
		if len(fresh) > 0 {
			m.t.restoring = true
			m.t.applyBatch(fresh, nil, now.UnixNano(), win)
			m.t.restoring = false
		}
		m.mu.Unlock()
		applied += len(fresh)
	}
	clear(fresh)
	return applied
}

// hasMessage reports whether source's topic received a message.
func (t *tree) hasMessage(source, topic string) bool {
	s := t.bySource[source]
	if s == nil {
		return false
	}
	id := t.index.find(t, s.idx, topic)
	return id != 0 && t.node(id).flags&hasMessage != 0
}
