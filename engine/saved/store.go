package saved

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// SavedFile is the file, in the data dir, that holds the collections.
const SavedFile = "saved-messages.json"

// Collection is a named group of saved messages, e.g. one per device.
type Collection struct {
	Name     string    `json:"name"`
	Messages []Message `json:"messages"`
}

type savedFile struct {
	Version     int          `json:"version"`
	Collections []Collection `json:"collections"`
}

// Store holds the collections, in memory and in SavedFile. Its methods are
// safe for concurrent use; each change is written before it is kept, so a
// change that could not be saved is not half made.
type Store struct {
	mu   sync.Mutex
	path string
	cols []Collection
}

// Open reads dataDir's saved messages; a missing file is no collections.
// A file that cannot be read is an error naming it, and no Store: nothing
// will overwrite it.
func Open(dataDir string) (*Store, error) {
	s := &Store{path: filepath.Join(dataDir, SavedFile)}
	var f savedFile
	ok, err := readFile(s.path, "saved messages", &f, func() int { return f.Version })
	if err != nil {
		return nil, err
	}
	if ok {
		s.cols = f.Collections
	}
	return s, nil
}

// Path is the file the collections are kept in.
func (s *Store) Path() string { return s.path }

// Collections returns a copy of every collection, in the order created,
// messages in the order saved.
func (s *Store) Collections() []Collection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneCollections(s.cols)
}

// Find returns the message saved as collection/name.
func (s *Store) Find(collection, name string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ci := s.index(collection)
	if ci < 0 {
		return Message{}, false
	}
	mi := messageIndex(s.cols[ci].Messages, name)
	if mi < 0 {
		return Message{}, false
	}
	return s.cols[ci].Messages[mi], true
}

// Put saves m under m.Name in collection, replacing a message of that name
// and creating the collection if needed.
func (s *Store) Put(collection string, m Message) error {
	if err := ValidateName("collection", collection); err != nil {
		return err
	}
	if err := ValidateName("message", m.Name); err != nil {
		return err
	}
	if strings.Contains(collection, "/") {
		return fmt.Errorf("collection name %q: use no '/' (a saved message is named COLLECTION/NAME)", collection)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("save %s/%s: %w", collection, m.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cols := cloneCollections(s.cols)
	ci := s.index(collection)
	if ci < 0 {
		cols = append(cols, Collection{Name: collection})
		ci = len(cols) - 1
	}
	if mi := messageIndex(cols[ci].Messages, m.Name); mi >= 0 {
		cols[ci].Messages[mi] = m
	} else {
		cols[ci].Messages = append(cols[ci].Messages, m)
	}
	return s.commit(cols)
}

// Delete removes collection/name; a collection left empty goes too.
func (s *Store) Delete(collection, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ci := s.index(collection)
	mi := -1
	if ci >= 0 {
		mi = messageIndex(s.cols[ci].Messages, name)
	}
	if mi < 0 {
		return fmt.Errorf("delete %s/%s: no such saved message", collection, name)
	}
	cols := cloneCollections(s.cols)
	cols[ci].Messages = slices.Delete(cols[ci].Messages, mi, mi+1)
	if len(cols[ci].Messages) == 0 {
		cols = slices.Delete(cols, ci, ci+1)
	}
	return s.commit(cols)
}

// commit writes cols and, once written, keeps them.
func (s *Store) commit(cols []Collection) error {
	if err := writeFile(s.path, "saved messages", savedFile{Version: fileVersion, Collections: cols}); err != nil {
		return err
	}
	s.cols = cols
	return nil
}

func (s *Store) index(collection string) int {
	return slices.IndexFunc(s.cols, func(c Collection) bool { return c.Name == collection })
}

func messageIndex(ms []Message, name string) int {
	return slices.IndexFunc(ms, func(m Message) bool { return m.Name == name })
}

// cloneCollections copies the slices a caller could change; messages'
// byte slices are never changed in place, so they are shared.
func cloneCollections(cols []Collection) []Collection {
	out := make([]Collection, len(cols))
	for i, c := range cols {
		out[i] = Collection{Name: c.Name, Messages: slices.Clone(c.Messages)}
	}
	return out
}

// ValidateName checks a collection's or a message's name (what says which).
func ValidateName(what, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("the %s needs a name", what)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%s name %q: remove the spaces at its start or end", what, name)
	case len(name) > 200:
		return errors.New(what + " name is longer than 200 bytes; shorten it")
	}
	return nil
}

// SplitRef reads "COLLECTION/NAME" (the name may itself contain '/').
func SplitRef(ref string) (collection, name string, err error) {
	collection, name, ok := strings.Cut(ref, "/")
	if !ok || collection == "" || name == "" {
		return "", "", fmt.Errorf("%q: name a saved message as COLLECTION/NAME", ref)
	}
	return collection, name, nil
}
