package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// damagedPayload is record i's payload in the damage test: 500 bytes
// that say which record they belong to.
func damagedPayload(i int) string { return fmt.Sprintf("%06d", i) + strings.Repeat("x", 494) }

// A damaged capture is never read back silently: query and export write
// every intact record and never a corrupted one, say on stderr which
// records of which file could not be read, and exit 3 ("results
// incomplete"), whether they open the capture or serve holds it.
func TestCaptureQueryAndExportReportDamage(t *testing.T) {
	const n = 3000 // two blocks of about 2,000 records
	data := t.TempDir()
	store, err := capture.Open(captureDir(data), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	for i := range n {
		if !store.Ingest(message.Message{Time: t0.Add(time.Duration(i) * time.Millisecond), Topic: "dmg", Payload: []byte(damagedPayload(i))}) {
			t.Fatal("record refused")
		}
	}
	if err := store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	blockFile := filepath.Join(captureDir(data), "blocks", "0000000001.blk")
	f, err := os.OpenFile(blockFile, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{100_000, 300_000, 500_000} {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 64), off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	check := func(t *testing.T) {
		code, out, errOut := runInProcess([]string{"capture", "query", "--data", data, "--limit", "0", "--format", "jsonl", "--oldest-first"}, "")
		if code != 3 {
			t.Errorf("query of a damaged capture: exit %d, want 3; stderr: %s", code, errOut)
		}
		// The flips may fall in one block or more (blocks are also sealed by age).
		reports := regexp.MustCompile(`records seq (\d+)\.\.(\d+) in \S*0000000001\.blk cannot be read: checksum mismatch`).FindAllStringSubmatch(errOut, -1)
		if len(reports) == 0 {
			t.Fatalf("query stderr does not name the damaged records and file:\n%s", errOut)
		}
		lostSeq := make(map[int]bool)
		for _, r := range reports {
			var first, last int
			fmt.Sscan(r[1], &first)
			fmt.Sscan(r[2], &last)
			for seq := first; seq <= last; seq++ {
				lostSeq[seq] = true
			}
		}
		got := 0
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r struct {
				Seq     int    `json:"seq"`
				Payload string `json:"payload"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if lostSeq[r.Seq] || r.Payload != damagedPayload(r.Seq-1) {
				t.Fatalf("query wrote seq %d with payload %.10q…, which is damaged", r.Seq, r.Payload)
			}
			got++
		}
		if len(lostSeq) == 0 || got != n-len(lostSeq) {
			t.Errorf("query wrote %d records, with %d reported damaged; want the other %d", got, len(lostSeq), n-len(lostSeq))
		}

		file := filepath.Join(t.TempDir(), "out.jsonl")
		code, out, errOut = runInProcess([]string{"capture", "export", "--data", data, "--out", file}, "")
		written, rerr := os.ReadFile(file)
		if code != 3 || rerr != nil || bytes.Count(written, []byte("\n")) != n-len(lostSeq) || !strings.Contains(errOut, "0000000001.blk") {
			t.Errorf("export of a damaged capture: exit %d (want 3), %d lines (want %d), %v\nstdout: %s\nstderr: %s",
				code, bytes.Count(written, []byte("\n")), n-len(lostSeq), rerr, out, errOut)
		}
	}
	t.Run("alone", func(t *testing.T) {
		check(t)
		code, out, errOut := runInProcess([]string{"capture", "stats", "--data", data}, "")
		if code != 0 || !regexp.MustCompile(`(?m)^damaged +\d+ records`).MatchString(out) || !regexp.MustCompile(`(?m)^too large +0$`).MatchString(out) {
			t.Errorf("capture stats of a damaged capture: exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("through serve", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--data", data)
		stderr := &bytes.Buffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}()
		testkit.EventuallyErr(t, "serve to answer on the capture socket", func() error {
			if _, err := dialCapture(data); err != nil {
				return testkit.Described(func() string { return fmt.Sprintf("%v; stderr: %s", err, stderr.String()) })
			}
			return nil
		})
		check(t)
	})
}
