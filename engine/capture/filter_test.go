package capture

import (
	"strings"
	"testing"
)

func TestValidateFilter(t *testing.T) {
	cases := []struct {
		filter  string
		wantErr string // substring of the error; "" = valid
	}{
		{"", ""},
		{"a", ""},
		{"a/b/c", ""},
		{"#", ""},
		{"+", ""},
		{"a/#", ""},
		{"+/+/#", ""},
		{"/", ""},
		{"a//b", ""},
		{"$SYS/#", ""},
		{"température/ü", ""},
		{"a/#/b", `topic filter "a/#/b": '#' must be the last level (it is level 2 of 3)`},
		{"#/a", `'#' must be the last level (it is level 1 of 2)`},
		{"a#", `topic filter "a#": '#' must occupy a whole level (level 1 is "a#")`},
		{"a/b#", `'#' must occupy a whole level (level 2 is "b#")`},
		{"a/+b", `topic filter "a/+b": '+' must occupy a whole level (level 2 is "+b")`},
		{"++", `'+' must occupy a whole level (level 1 is "++")`},
		{"a/\x00", `NUL character at byte 2`},
		{"ab\xffc", `invalid UTF-8 at byte 2`},
		{strings.Repeat("a", 65536), "65536 bytes long"},
	}
	for _, c := range cases {
		err := ValidateFilter(c.filter)
		name := c.filter
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ValidateFilter(%q) = %v, want nil", name, err)
		case c.wantErr != "" && err == nil:
			t.Errorf("ValidateFilter(%q) = nil, want error containing %q", name, c.wantErr)
		case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
			t.Errorf("ValidateFilter(%q) = %q, want it to contain %q", name, err, c.wantErr)
		}
	}
}

func TestMatchTopic(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"a/+", "a/b", true},
		{"a/+", "a", false},
		{"a/+", "a/", true},
		{"a/+", "a/b/c", false},
		{"+/+", "a/b", true},
		{"+", "a", true},
		{"+", "/a", false},
		{"/+", "/a", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"#", "a/b/c", true},
		{"#", "/", true},
		{"a/+/c", "a/b/c", true},
		{"a/+/c", "a/b/d", false},
		{"a//b", "a//b", true},
		{"a/+/b", "a//b", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"$SYS/+", "$SYS/x", true},
	}
	for _, c := range cases {
		if got := matchTopic(c.filter, []byte(c.topic)); got != c.want {
			t.Errorf("matchTopic(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

// Every topic matchTopic accepts starts with the filter's literal prefix.
func TestLiteralPrefixAgreesWithMatch(t *testing.T) {
	topics := []string{"a", "a/b", "a/b/c", "a/bc", "ab/c", "", "/", "/a", "a/", "$SYS/x", "x/a/b"}
	filters := []string{"#", "+", "a/#", "a/+", "a/b/#", "a/+/c", "+/b", "/+", "a/b", "a/", "$SYS/#", "a/b/+/#"}
	for _, f := range filters {
		lit := literalPrefix(f)
		for _, topic := range topics {
			if matchTopic(f, []byte(topic)) && !strings.HasPrefix(topic, lit) {
				t.Errorf("filter %q matches %q, which lacks its literal prefix %q", f, topic, lit)
			}
		}
	}
}
