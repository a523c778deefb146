package client

import (
	"strings"
	"testing"
)

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
