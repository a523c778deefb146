package message

import "strconv"

// ProtocolName names a CONNECT protocol level the way the Connections form
// offers it ("MQTT 5", "MQTT 3.1.1"), so a client's protocol reads the same
// in every panel.
func ProtocolName(level byte) string {
	switch level {
	case 3:
		return "MQTT 3.1"
	case 4:
		return "MQTT 3.1.1"
	case 5:
		return "MQTT 5"
	case 0:
		// A retained message restored from an earlier run: the broker's
		// storage does not keep its publisher's protocol.
		return "not recorded"
	}
	return "protocol " + strconv.Itoa(int(level))
}
