package saved

import (
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// HistoryFile is the file, in the data dir, that holds recent publishes.
const HistoryFile = "publish-history.json"

// DefaultHistoryLimit is how many publishes the history keeps by default.
const DefaultHistoryLimit = 100

// Entry is one publish, or one repeated run of the same message.
type Entry struct {
	Time       time.Time `json:"time"` // when it (the run) started
	Connection string    `json:"connection"`
	// Count is how many times the run published the message.
	Count   int     `json:"count"`
	Message Message `json:"message"`
}

type historyFile struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// History is the capped list of recent publishes, newest first, kept in
// HistoryFile. Its methods are safe for concurrent use.
type History struct {
	mu      sync.Mutex
	path    string
	limit   int
	entries []Entry
}

// OpenHistory reads dataDir's history, keeping at most limit entries
// (DefaultHistoryLimit when limit <= 0). A file that cannot be read is an
// error naming it, and no History: nothing will overwrite it.
func OpenHistory(dataDir string, limit int) (*History, error) {
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	h := &History{path: filepath.Join(dataDir, HistoryFile), limit: limit}
	var f historyFile
	ok, err := readFile(h.path, "publish history", &f, func() int { return f.Version })
	if err != nil {
		return nil, err
	}
	if ok {
		h.entries = f.Entries[:min(len(f.Entries), limit)]
	}
	return h, nil
}

// Path is the file the history is kept in.
func (h *History) Path() string { return h.path }

// Entries returns the history, newest first.
func (h *History) Entries() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.entries)
}

// Add puts e first, dropping the oldest entry beyond the limit.
func (h *History) Add(e Entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	entries := append([]Entry{e}, h.entries[:min(len(h.entries), h.limit-1)]...)
	if err := writeFile(h.path, "publish history", historyFile{Version: fileVersion, Entries: entries}); err != nil {
		return err
	}
	h.entries = entries
	return nil
}
