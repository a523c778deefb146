package topics

import (
	"slices"
	"strings"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"", "anything/at/all", true},
		{"kitchen", "home/kitchen/temp", true},
		{"KITCHEN", "home/Kitchen/temp", true},
		{"hen/te", "home/kitchen/temp", true},
		{"garage", "home/kitchen/temp", false},
		{"home/kitchen/temp/x", "home/kitchen/temp", false},
		{"home/+/temp", "home/kitchen/temp", true},
		{"home/+/temp", "home/kitchen/hum", false},
		{"home/+/temp", "home/a/b/temp", false},
		{"home/#", "home", true}, // '#' matches the parent level too
		{"home/#", "home/kitchen/temp", true},
		{"home/#", "garden/x", false},
		{"#", "$SYS/broker/uptime", false}, // wildcards first never match '$' topics
		{"$SYS/#", "$SYS/broker/uptime", true},
		{"+/+", "/a", true},
		{"home/kitchen/#", "home/Kitchen/temp", false}, // MQTT filters are case-sensitive
	}
	for _, tt := range tests {
		t.Run(tt.filter+"_on_"+tt.topic, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if f.String() != tt.filter || f.Wildcard() != strings.ContainsAny(tt.filter, "+#") {
				t.Fatalf("parsed %+v", f)
			}
			if got := f.Match(tt.topic); got != tt.want {
				t.Fatalf("%q matches %q: %v, want %v", tt.filter, tt.topic, got, tt.want)
			}
		})
	}
}

func TestParseFilterExplainsBadWildcards(t *testing.T) {
	tests := []struct {
		filter string
		says   []string
	}{
		{"a/#/b", []string{"MQTT topic filter", "leave them out to search for text", "'#' must be the last level"}},
		{"a/b+", []string{"'+' must occupy a whole level", `"b+"`}},
		{"sensor#", []string{"'#' must occupy a whole level"}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			_, err := ParseFilter(tt.filter)
			if err == nil {
				t.Fatalf("%q accepted", tt.filter)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestModelMatch(t *testing.T) {
	m := New(Options{})
	remote := msg("plant/1/temp", "9")
	remote.Source = "remote"
	applyAll(m, msg("plant/1/temp", "20"), msg("plant/1/power", "3"), msg("plant/2/temp", "21"),
		msg("office/temp", "22"), msg("plant/1", "folder with its own message"), remote)
	tests := []struct {
		filter    string
		limit     int
		want      []string // matching topics
		shows     []string // besides those: ancestors shown
		hides     []string
		truncated bool
	}{
		{filter: "temp", want: []string{"plant/1/temp", "plant/2/temp", "office/temp"},
			shows: []string{"plant", "plant/1", "plant/2", "office"}, hides: []string{"plant/1/power"}},
		{filter: "plant/+/temp", want: []string{"plant/1/temp", "plant/2/temp"},
			shows: []string{"plant", "plant/1"}, hides: []string{"office/temp", "office", "plant/1/power"}},
		{filter: "plant/1/#", want: []string{"plant/1", "plant/1/temp", "plant/1/power"},
			hides: []string{"plant/2", "plant/2/temp"}},
		{filter: "temp", limit: 2, want: []string{"plant/1/temp", "plant/2/temp"}, truncated: true,
			hides: []string{"office/temp"}},
		{filter: "nothing", want: nil, hides: []string{"plant"}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			ms := m.Match("broker", f, tt.limit)
			var got []string
			for _, s := range m.Summaries(nil, ms.Topics) {
				if s.Source != "broker" {
					t.Fatalf("matched a %s topic", s.Source)
				}
				got = append(got, s.Topic)
			}
			if !slices.Equal(got, tt.want) || ms.Truncated != tt.truncated {
				t.Fatalf("matched %v (truncated %v), want %v (%v)", got, ms.Truncated, tt.want, tt.truncated)
			}
			for _, topic := range append(append([]string{}, tt.want...), tt.shows...) {
				if !ms.Shows(lookup(t, m, topic)) {
					t.Errorf("%q hidden", topic)
				}
			}
			for _, topic := range tt.hides {
				if ms.Shows(lookup(t, m, topic)) {
					t.Errorf("%q shown", topic)
				}
			}
			if root := m.Sources()[0].ID; ms.Shows(root) != (len(tt.want) > 0) {
				t.Errorf("root shown: %v with %d matches", ms.Shows(root), len(tt.want))
			}
			if r, _ := m.Lookup("remote", "plant/1/temp"); ms.Shows(r) {
				t.Error("a remote node shown in the broker's filtered tree")
			}
		})
	}
}
