package client

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateTopicName(t *testing.T) {
	cases := []struct {
		name, topic string
		errHas      string // "" means valid
		pos, level  int
		warnHas     []string
	}{
		{name: "plain", topic: "home/kitchen/temperature"},
		{name: "one level", topic: "a"},
		{name: "spaces and unicode", topic: "maison/salle à manger/température"},
		{name: "empty", topic: "", errHas: "the topic is empty"},
		{name: "too long", topic: strings.Repeat("a", MaxTopicLen+1), errHas: "65536 bytes long; MQTT allows at most 65535"},
		{name: "longest allowed", topic: strings.Repeat("a", MaxTopicLen)},
		{name: "plus", topic: "home/+/temp", errHas: "'+' is a wildcard", pos: 5, level: 2},
		{name: "hash", topic: "home/#", errHas: "'#' is a wildcard", pos: 5, level: 2},
		{name: "plus inside a level", topic: "a/b/c+d", errHas: "'+' is a wildcard", pos: 5, level: 3},
		{name: "nul", topic: "a/b\x00c", errHas: "NUL character", pos: 3, level: 2},
		{name: "invalid utf-8", topic: "ok/\xff", errHas: "invalid UTF-8", pos: 3, level: 2},
		{name: "leading slash", topic: "/a/b", warnHas: []string{"level 1 of 3 is empty (the topic starts with '/')"}},
		{name: "trailing slash", topic: "a/b/", warnHas: []string{"level 3 of 3 is empty (the topic ends with '/')"}},
		{name: "double slash", topic: "a//b", warnHas: []string{"level 2 of 3 is empty ('//')"}},
		{name: "only a slash", topic: "/", warnHas: []string{"level 1 of 2", "level 2 of 2"}},
		{name: "dollar", topic: "$SYS/broker/uptime", warnHas: []string{"reserved for the broker"}},
		{name: "control", topic: "a/b\tc", warnHas: []string{"control character U+0009 at byte 3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warnings, err := ValidateTopicName(c.topic)
			if c.errHas == "" {
				if err != nil {
					t.Fatalf("ValidateTopicName(%q) = %v, want valid", c.topic, err)
				}
			} else {
				var te *TopicNameError
				if !errors.As(err, &te) {
					t.Fatalf("ValidateTopicName(%q) = %v, want a *TopicNameError with %q", c.topic, err, c.errHas)
				}
				if !strings.Contains(err.Error(), c.errHas) || te.Pos != c.pos || te.Level != c.level {
					t.Fatalf("error %q at byte %d level %d; want %q at byte %d level %d", err, te.Pos, te.Level, c.errHas, c.pos, c.level)
				}
				if warnings != nil {
					t.Errorf("warnings with an error: %q", warnings)
				}
			}
			if len(warnings) != len(c.warnHas) {
				t.Fatalf("warnings %q, want %d containing %q", warnings, len(c.warnHas), c.warnHas)
			}
			for i, w := range c.warnHas {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
			}
		})
	}
}

func TestTopicNameErrorSaysWhere(t *testing.T) {
	_, err := ValidateTopicName("sensors/+/temp")
	if got, want := err.Error(), "'+' is a wildcard: it may appear in a subscription's filter, never in the topic of a message (byte 8, level 2)"; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}
