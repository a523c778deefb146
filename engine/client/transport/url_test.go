package transport

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "mqtt://127.0.0.1:1883", want: "mqtt://127.0.0.1:1883"},
		{in: "tcp://broker.example", want: "mqtt://broker.example:1883"},
		{in: "MQTTS://broker.example", want: "mqtts://broker.example:8883"},
		{in: "ssl://h:9999", want: "mqtts://h:9999"},
		{in: "ws://localhost:8083", want: "ws://localhost:8083/mqtt"},
		{in: "ws://localhost:8083/custom/path", want: "ws://localhost:8083/custom/path"},
		{in: "wss://h/mqtt", want: "wss://h:443/mqtt"},
		{in: "mqtt://[::1]:1883/", want: "mqtt://[::1]:1883"},
		{in: "127.0.0.1:1883", err: "give a URL such as mqtt://HOST:PORT"},
		{in: "http://h:80", err: `unsupported scheme "http"`},
		{in: "mqtt://alice:s3cret@h:1883", err: "must not hold a user name or password"},
		{in: "mqtt://:1883", err: "no host"},
		{in: "mqtt://h:99999", err: `port "99999"`},
		{in: "mqtt://h:", err: "empty port"},
		{in: "mqtt://h:1883/mqtt", err: "takes no path"},
		{in: "mqtt://h:1883?x=1", err: "no ?query"},
	}
	for _, tc := range cases {
		got, err := ParseURL(tc.in)
		switch {
		case tc.err == "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrBadURL)):
			t.Errorf("ParseURL(%q) error %v; want ErrBadURL saying %q", tc.in, err, tc.err)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("ParseURL(%q) error shows the password: %v", tc.in, err)
		}
	}
}
