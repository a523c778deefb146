package sparkplugb

import "strings"

// Namespace is the first topic level of every Sparkplug B topic.
const Namespace = "spBv1.0"

// Message types (the third topic level; STATE is the second).
const (
	NBIRTH = "NBIRTH"
	NDEATH = "NDEATH"
	DBIRTH = "DBIRTH"
	DDEATH = "DDEATH"
	NDATA  = "NDATA"
	DDATA  = "DDATA"
	NCMD   = "NCMD"
	DCMD   = "DCMD"
	STATE  = "STATE"
)

// Topic is a parsed Sparkplug B topic.
type Topic struct {
	Group       string // empty for STATE
	MessageType string // NBIRTH ... DCMD, or STATE
	EdgeNode    string // empty for STATE
	Device      string // only for the D* message types
	HostID      string // only for STATE
}

// IsTopic reports whether topic is in the Sparkplug B namespace.
func IsTopic(topic string) bool {
	return strings.HasPrefix(topic, Namespace+"/")
}

// ParseTopic parses spBv1.0/<group>/<type>/<edge node>[/<device>] and
// spBv1.0/STATE/<host id>. Device message types need the device level,
// node types must not have it; empty levels are refused.
func ParseTopic(topic string) (Topic, bool) {
	rest, ok := strings.CutPrefix(topic, Namespace+"/")
	if !ok {
		return Topic{}, false
	}
	parts := strings.Split(rest, "/")
	for _, p := range parts {
		if p == "" {
			return Topic{}, false
		}
	}
	if parts[0] == STATE {
		if len(parts) != 2 {
			return Topic{}, false
		}
		return Topic{MessageType: STATE, HostID: parts[1]}, true
	}
	if len(parts) < 3 {
		return Topic{}, false
	}
	t := Topic{Group: parts[0], MessageType: parts[1], EdgeNode: parts[2]}
	switch t.MessageType {
	case NBIRTH, NDEATH, NDATA, NCMD:
		if len(parts) != 3 {
			return Topic{}, false
		}
	case DBIRTH, DDEATH, DDATA, DCMD:
		if len(parts) != 4 {
			return Topic{}, false
		}
		t.Device = parts[3]
	default:
		return Topic{}, false
	}
	return t, true
}
