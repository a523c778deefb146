package message

import "testing"

func TestProtocolName(t *testing.T) {
	for level, want := range map[byte]string{3: "MQTT 3.1", 4: "MQTT 3.1.1", 5: "MQTT 5", 0: "not recorded", 9: "protocol 9"} {
		if got := ProtocolName(level); got != want {
			t.Errorf("ProtocolName(%d) = %q, want %q", level, got, want)
		}
	}
}
