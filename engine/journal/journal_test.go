package journal

import (
	"slices"
	"strings"
	"testing"
)

func TestParseKinds(t *testing.T) {
	tests := []struct {
		in      string
		want    []Kind
		wantErr string
	}{
		{"", nil, ""},
		{"connect", []Kind{Connect}, ""},
		{" Disconnect , connect,disconnect,", []Kind{Disconnect, Connect}, ""},
		{"acl-denied,remote-state", []Kind{Denied, Remote}, ""},
		{"connect,logout", nil, `unknown event kind "logout": give one or more of connect, refused, disconnect, subscribe, unsubscribe, acl-denied, remote-state`},
	}
	for _, tt := range tests {
		got, err := ParseKinds(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseKinds(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseKinds(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Kind: Connect, Protocol: 5, CleanStart: true, KeepAlive: 60, SessionExpiry: 300, WillTopic: "dev/1/status"},
			"v5, clean start, keepalive 60s, session expiry 300s, will dev/1/status"},
		{Event{Kind: Refused, Code: 0x86, Reason: "bad user name or password"}, "0x86 bad user name or password"},
		{Event{Kind: Disconnect, Cause: CauseClient}, "client-disconnect, 0x00"},
		{Event{Kind: Disconnect, Cause: CauseKeepAlive, Code: 0x8D, Reason: "keep alive timeout"}, "keepalive-timeout, 0x8D, keep alive timeout"},
		{Event{Kind: Subscribe, Filters: []Filter{{Filter: "a/#", Granted: 1}, {Filter: "b", Granted: -1, Code: 0x87}}}, "a/# qos 1, b refused 0x87"},
		{Event{Kind: Denied, Action: "publish", Topic: "secret/x"}, "publish secret/x"},
		{Event{Kind: Remote, State: "reconnecting", URL: "mqtt://h:1883", Reason: "connection refused"}, "reconnecting, mqtt://h:1883, connection refused"},
	}
	for _, tt := range tests {
		if got := tt.ev.Summary(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.ev.Kind, got, tt.want)
		}
	}
}
