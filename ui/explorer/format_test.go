package explorer

import (
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

func TestPreviewText(t *testing.T) {
	cborMap, err := cbor.Marshal(map[string]any{"t": 21.5, "ok": true})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", topics.PreviewBytes)
	for _, tt := range []struct {
		name string
		s    topics.NodeSummary
		want string
	}{
		{"a level without messages", topics.NodeSummary{Topic: "a"}, ""},
		{"empty payload", topics.NodeSummary{Topic: "a", Messages: 1}, "(empty)"},
		{"text", topics.NodeSummary{Topic: "a", Messages: 1, Preview: "21.5", PayloadLen: 4}, "21.5"},
		{"JSON over lines, on one", topics.NodeSummary{Topic: "a", Messages: 1, Preview: "{\n  \"t\": 1,\n\t\"u\": \"C\"\n}", PayloadLen: 22}, `{ "t": 1, "u": "C" }`},
		{"cut text says so", topics.NodeSummary{Topic: "a", Messages: 1, Preview: long, PayloadLen: 5000}, long + " …"},
		{"CBOR", topics.NodeSummary{Topic: "a", Messages: 1, Preview: string(cborMap), PayloadLen: len(cborMap)}, "CBOR, " + itoa(len(cborMap)) + " B"},
		{"Sparkplug by its topic", topics.NodeSummary{Topic: "spBv1.0/g/DDATA/n/d", Messages: 1, Preview: "\x08\x01\x12", PayloadLen: 2048}, "Sparkplug B, 2.0 KiB"},
		{"other binary", topics.NodeSummary{Topic: "a", Messages: 1, Preview: "\x00\x01\x02", PayloadLen: 3}, "binary, 3 B"},
	} {
		if got := previewText(&tt.s); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func itoa(n int) string { return numfmt.Count(n) }

func TestCountsAndStatusText(t *testing.T) {
	leaf := rowData{NodeSummary: topics.NodeSummary{Messages: 1}}
	if got := countsText(&leaf); got != "1 msg" {
		t.Errorf("leaf: %q", got)
	}
	branch := rowData{NodeSummary: topics.NodeSummary{Children: 12, Messages: 2, SubtreeMessages: 12345, Retained: true}}
	if got := countsText(&branch); got != "has retained · 12 children · 12,345 msgs" {
		t.Errorf("branch: %q", got)
	}
	filtered := rowData{NodeSummary: topics.NodeSummary{Children: 12, SubtreeMessages: 40}, filtered: true, shownKids: 3}
	if got := countsText(&filtered); got != "3 of 12 children · 40 msgs" {
		t.Errorf("filtered branch: %q", got)
	}
	filtered.shownKids = 12
	if got := countsText(&filtered); got != "12 children · 40 msgs" {
		t.Errorf("filtered branch with every child shown: %q", got)
	}
	st := topics.Stats{Rate: 9876.4, Topics: 100000, Messages: 1000000, Dropped: 3, OverLimit: 2}
	if got := statusText(st); got != "9,876 msg/s · 100,000 topics · 1,000,000 msgs · 3 dropped · 2 not shown (over the tree's node limit)" {
		t.Errorf("status: %q", got)
	}
	// Messages a burst coalesced are not lost: each topic shows its newest.
	st = topics.Stats{Rate: 217000, Topics: 100000, Messages: 1000000, Coalesced: 53987}
	if got := statusText(st); got != "217,000 msg/s · 100,000 topics · 1,000,000 msgs · 0 dropped · 53,987 skipped (newest shown)" {
		t.Errorf("status after a coalesced burst: %q", got)
	}
	if got := nameText(&topics.NodeSummary{Source: "broker"}); got != "Local broker" {
		t.Errorf("the embedded broker's root is named %q", got)
	}
	if got := nameText(&topics.NodeSummary{Source: "factory-gw"}); got != "factory-gw" {
		t.Errorf("a connection's root is named %q", got)
	}
	if got := nameText(&topics.NodeSummary{Parent: 1}); got != `""` {
		t.Errorf("an empty level is named %q", got)
	}
}

// The confirmation names the source as the tree does: "Local broker", not
// the model's internal "broker".
func TestDeleteQuestionNamesTheSourceAsTheTreeDoes(t *testing.T) {
	root := rowData{NodeSummary: topics.NodeSummary{Source: "broker", SubtreeRetained: 50}}
	if got := deleteQuestion(&root); !strings.HasPrefix(got, "Delete the retained messages of 50 topics in Local broker?") {
		t.Errorf("the question for the broker's root is %q", got)
	}
	remote := rowData{NodeSummary: topics.NodeSummary{Source: "factory-gw", SubtreeRetained: 2}}
	if got := deleteQuestion(&remote); !strings.HasPrefix(got, "Delete the retained messages of 2 topics in factory-gw?") {
		t.Errorf("the question for a connection's root is %q", got)
	}
}

// In Russian the embedded broker's root, and the Local broker connection's
// when it is open, are named as the Connections panel lists it; the tree
// said "Local broker" in every language.
func TestLocalBrokerRootInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	for _, source := range []string{"broker", "Local broker"} {
		if got := nameText(&topics.NodeSummary{Source: source}); got != "Локальный брокер" {
			t.Errorf("the root of source %q is named %q", source, got)
		}
	}
	root := rowData{NodeSummary: topics.NodeSummary{Source: "broker", SubtreeRetained: 50}}
	if got := deleteQuestion(&root); !strings.Contains(got, "Локальный брокер") {
		t.Errorf("the question for the broker's root is %q", got)
	}
}
