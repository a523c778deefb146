package studio

import (
	"path/filepath"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
)

// JournalDir is where the session journal lives inside the data dir.
func JournalDir(dataDir string) string { return filepath.Join(dataDir, "journal") }

// openJournal opens the session journal; a failure fails Open unless
// cfg.JournalMayFail (the broker works without it).
func (s *Studio) openJournal(dir string, cfg Config) error {
	opts := cfg.JournalOptions
	opts.Logger = s.log
	j, err := journalstore.Open(JournalDir(dir), opts)
	if err != nil {
		if !cfg.JournalMayFail {
			return err
		}
		s.log.Error("sessions are not being journaled", "error", err)
		s.JournalErr = err
		return nil
	}
	s.Journal = j
	return nil
}

// remoteStates journals the connections' state changes, or is nil
// without a journal.
func (s *Studio) remoteStates() func(client.Status) {
	j := s.Journal
	if j == nil {
		return nil
	}
	return func(st client.Status) {
		ev := journal.Event{Time: time.Now(), Kind: journal.Remote, Client: st.Name, State: st.State.String(), URL: st.URL}
		if st.LastError != nil && st.State != client.StateConnected {
			ev.Reason = st.LastError.Error()
		}
		j.Record(ev)
	}
}

func (s *Studio) closeJournal() {
	if s.Journal == nil {
		return
	}
	if err := s.Journal.Close(); err != nil {
		s.log.Error("closing the session journal", "error", err)
	}
}
