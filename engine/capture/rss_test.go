package capture

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssKB reads a "kB" field of /proc/self/status (VmRSS, RssAnon, RssFile,
// VmHWM); 0 where /proc is missing.
func rssKB(tb testing.TB, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("/proc/self/status %s: %v", field, err)
			}
			return n
		}
	}
	return 0
}

// rssPeak tracks the peaks of anonymous and file-backed resident memory
// over a baseline. File-backed pages are Badger's memory-mapped files
// (memtable logs, value log): page cache the kernel can reclaim, but
// counted in the resident size a task manager shows.
type rssPeak struct {
	baseAnon, baseFile, anon, file int64
}

func newRSSPeak(tb testing.TB) *rssPeak {
	return &rssPeak{baseAnon: rssKB(tb, "RssAnon"), baseFile: rssKB(tb, "RssFile")}
}

func (p *rssPeak) sample(tb testing.TB) {
	p.anon = max(p.anon, rssKB(tb, "RssAnon")-p.baseAnon)
	p.file = max(p.file, rssKB(tb, "RssFile")-p.baseFile)
}

func (p *rssPeak) report(b *testing.B) {
	b.ReportMetric(float64(p.anon)/1024, "rss-anon-MB")
	b.ReportMetric(float64(p.file)/1024, "rss-file-MB")
}
