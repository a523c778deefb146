package broker

import "testing"

func TestDefaultMaxConnectionsLeavesDescriptors(t *testing.T) {
	for _, tc := range []struct {
		fdLimit uint64
		want    int
	}{
		{0, DefaultMaxConnections}, // unknown (Windows)
		{256, 168},                 // macOS' historical default
		{1024, 672},
		{4096, 2688},
		{1 << 20, DefaultMaxConnections},
	} {
		got := defaultMaxConnections(tc.fdLimit)
		if got != tc.want {
			t.Errorf("descriptor limit %d: %d connections, want %d", tc.fdLimit, got, tc.want)
		}
		if tc.fdLimit >= 1024 && uint64(socketLimit(got)) > tc.fdLimit-fdReserve(tc.fdLimit)/2 {
			t.Errorf("descriptor limit %d: the socket limit %d eats more than half the reserve", tc.fdLimit, socketLimit(got))
		}
	}
}
