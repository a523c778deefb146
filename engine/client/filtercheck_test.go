package client

import (
	"strings"
	"testing"
)

func TestCheckFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   []string // each must be in the error; nil: valid
	}{
		{"sensors/#", nil},
		{"#", nil},
		{"+", nil},
		{"sensors/+/temp", nil},
		{"+/+/#", nil},
		{"/", nil},
		{"a//b", nil},
		{"$SYS/#", nil},
		{"$share", nil}, // no slash: an ordinary topic filter
		{"$share/workers/sensors/#", nil},
		{"$share/g/+", nil},
		{"", []string{"empty", "sensors/#"}},
		{"sensors/#/temp", []string{"'#' must be the last level", "level 2 of 3", `"sensors/#/temp"`}},
		{"a+", []string{"'+' must occupy a whole level", `level 1 is "a+"`}},
		{"sensors/x+y/temp", []string{"'+' must occupy a whole level", `level 2 is "x+y"`}},
		{"sensors/b#", []string{"'#' must occupy a whole level", `level 2 is "b#"`}},
		{"a/\x00", []string{"NUL", "byte 2"}},
		{"a/\xff", []string{"invalid UTF-8", "byte 2"}},
		{strings.Repeat("a", 65536), []string{"65536 bytes", "at most 65535"}},
		{"$share//sensors/#", []string{"no group name", "$share/GROUP/FILTER"}},
		{"$share/g+/x", []string{`group name "g+"`, "'+' or '#'"}},
		{"$share/workers", []string{"no topic filter after the group", "$share/workers/FILTER"}},
		{"$share/workers/", []string{"no topic filter after the group"}},
		{"$share/workers/a/#/b", []string{"after $share/workers/", "'#' must be the last level", "level 2 of 3"}},
	}
	for _, tt := range tests {
		name := tt.filter
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			err := CheckFilter(tt.filter)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckFilter(%q) = %v, want valid", tt.filter, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckFilter(%q) accepted it", tt.filter)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckFilter(%q) = %q; want it to say %q", tt.filter, err, w)
				}
			}
		})
	}
}

func TestSharedFilter(t *testing.T) {
	tests := []struct {
		in, group, inner string
		shared           bool
	}{
		{"a/b", "", "a/b", false},
		{"$share/g/a/b", "g", "a/b", true},
		{"$share/g", "g", "", true},
		{"$shared/g/a", "", "$shared/g/a", false},
	}
	for _, tt := range tests {
		g, in, sh := SharedFilter(tt.in)
		if g != tt.group || in != tt.inner || sh != tt.shared {
			t.Errorf("SharedFilter(%q) = %q, %q, %v; want %q, %q, %v", tt.in, g, in, sh, tt.group, tt.inner, tt.shared)
		}
	}
}

func TestCheckSubscription(t *testing.T) {
	tests := []struct {
		name  string
		sub   Subscription
		proto Protocol
		want  string // "" valid
	}{
		{"plain v5", Subscription{Filter: "a/#", QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}, MQTT5, ""},
		{"plain 3.1.1", Subscription{Filter: "a/#", QoS: 1}, MQTT311, ""},
		{"shared 3.1.1", Subscription{Filter: "$share/g/a", QoS: 1}, MQTT311, ""},
		{"bad filter first", Subscription{Filter: "a/#/b", QoS: 9}, MQTT5, "'#' must be the last level"},
		{"QoS 3", Subscription{Filter: "a", QoS: 3}, MQTT5, "QoS 3: choose 0, 1 or 2"},
		{"retain handling 3", Subscription{Filter: "a", RetainHandling: 3}, MQTT5, "retain handling 3"},
		{"no-local on 3.1.1", Subscription{Filter: "a", NoLocal: true}, MQTT311, "MQTT 5 options; this connection speaks MQTT 3.1.1"},
		{"retain handling on 3.1.1", Subscription{Filter: "a", RetainHandling: 1}, MQTT311, "MQTT 5 options"},
		{"no-local shared", Subscription{Filter: "$share/g/a", NoLocal: true}, MQTT5, "no-local cannot be set on a shared subscription"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSubscription(tt.sub, tt.proto)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want valid", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
