package journalstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/smalldisk"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// On a full disk the journal stops writing instead of crashing (Badger's
// memory-mapped files would SIGBUS): events are dropped and counted,
// Stats says the disk is full, and writing resumes once space is freed.
func TestFullDiskDropsAndResumes(t *testing.T) {
	mnt := smalldisk.Mount(t, 16<<20)
	s := open(t, filepath.Join(mnt, "journal"), Options{})
	filler := smalldisk.Fill(t, filepath.Join(mnt, "filler"), 512<<10)
	record := func(prefix string, n int) {
		for i := range n {
			s.Record(journal.Event{Time: time.Now(), Kind: journal.Connect, Client: fmt.Sprintf("%s-%d", prefix, i)})
		}
		flush(t, s)
	}
	record("while-full", 100)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !st.DiskFull || st.DroppedDiskFull != 100 || st.Events != 0 {
		t.Fatalf("on a full disk: %+v; want disk full, 100 dropped, none written", st)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyErr(t, "writing to resume once space is freed", func() error {
		record("after", 1)
		if st, _ := s.Stats(); st.DiskFull || st.Events == 0 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
}
