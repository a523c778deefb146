package numfmt

import "testing"

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRate(t *testing.T) {
	for r, want := range map[float64]string{0: "0.0", 2.25: "2.2", 9.94: "9.9", 10: "10", 12345.6: "12,346"} {
		if got := Rate(r); got != want {
			t.Errorf("Rate(%v) = %q, want %q", r, got, want)
		}
	}
}

func TestProtocol(t *testing.T) {
	for level, want := range map[byte]string{3: "MQTT 3.1", 4: "MQTT 3.1.1", 5: "MQTT 5", 0: "not recorded", 9: "protocol 9"} {
		if got := Protocol(level); got != want {
			t.Errorf("Protocol(%d) = %q, want %q", level, got, want)
		}
	}
}
