package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// KeptFile is the file, in the data dir, of the subscriptions made in the
// Subscribe panel.
const KeptFile = "subscriptions.json"

// KeptSubscriptions remembers, by connection name, the subscriptions a
// user made by hand (the Subscribe panel), so that they come back the next
// time the connection is opened, as in MQTTX. The subscriptions a profile
// makes at every connect (Profile.Subscribe) are not among them. Safe for
// concurrent use within one process.
type KeptSubscriptions struct {
	path string
	mu   sync.Mutex
}

type keptFile struct {
	Version     int                       `json:"version"`
	Connections map[string][]Subscription `json:"connections"`
}

const keptFileVersion = 1

// NewKeptSubscriptions keeps subscriptions in dataDir/subscriptions.json.
func NewKeptSubscriptions(dataDir string) *KeptSubscriptions {
	return &KeptSubscriptions{path: filepath.Join(dataDir, KeptFile)}
}

// For returns the subscriptions kept for a connection; a missing file is
// none.
func (k *KeptSubscriptions) For(conn string) ([]Subscription, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.load()
	return f.Connections[conn], err
}

// Keep adds sub to the connection's kept subscriptions, replacing one with
// the same filter.
func (k *KeptSubscriptions) Keep(conn string, sub Subscription) error {
	return k.update(func(subs []Subscription) []Subscription {
		i := slices.IndexFunc(subs, func(s Subscription) bool { return s.Filter == sub.Filter })
		if i >= 0 {
			subs[i] = sub
			return subs
		}
		return append(subs, sub)
	}, conn)
}

// Drop removes the connection's kept subscription to filter, if any.
func (k *KeptSubscriptions) Drop(conn, filter string) error {
	return k.update(func(subs []Subscription) []Subscription {
		return slices.DeleteFunc(subs, func(s Subscription) bool { return s.Filter == filter })
	}, conn)
}

func (k *KeptSubscriptions) update(change func([]Subscription) []Subscription, conn string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.load()
	if err != nil {
		return err
	}
	subs := change(f.Connections[conn])
	if len(subs) == 0 {
		delete(f.Connections, conn)
	} else {
		f.Connections[conn] = subs
	}
	err = replaceFile(k.path, func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(f)
	})
	if err != nil {
		return fmt.Errorf("save the kept subscriptions: %w", err)
	}
	return nil
}

// load reads the file; the caller holds mu. A damaged file is reported,
// never overwritten: the caller's change is refused instead.
func (k *KeptSubscriptions) load() (keptFile, error) {
	f := keptFile{Version: keptFileVersion, Connections: map[string][]Subscription{}}
	data, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read the kept subscriptions: %w", err)
	}
	var got keptFile
	if err := json.Unmarshal(data, &got); err != nil {
		return f, fmt.Errorf("read the kept subscriptions in %s: %w; fix or move it aside", k.path, err)
	}
	if got.Version != keptFileVersion {
		return f, fmt.Errorf("read the kept subscriptions in %s: version %d, this version reads %d; move it aside", k.path, got.Version, keptFileVersion)
	}
	if got.Connections != nil {
		f.Connections = got.Connections
	}
	return f, nil
}
