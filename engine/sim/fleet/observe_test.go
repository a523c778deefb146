package fleet

import (
	"strconv"
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A subscription on another broker sees no publisher client ID; the
// device is named by its sim-client property instead, so the window can
// count delivery through a saved connection too.
func TestIngestNamesTheDeviceWithoutAClientID(t *testing.T) {
	r := New(fleetOf{n: 1}, Target{}, Options{})
	for seq := range 3 {
		r.Ingest(message.Message{Source: "Team EMQX", Topic: "data", UserProps: []message.UserProp{
			{Key: PropSeq, Value: strconv.Itoa(seq)},
			{Key: PropClient, Value: "sim-dev000"},
		}})
	}
	r.Ingest(message.Message{Source: "Team EMQX", Topic: "data", UserProps: []message.UserProp{
		{Key: PropSeq, Value: "9"}, {Key: PropClient, Value: "not-ours"},
	}})
	if st := r.Stats(); st.Delivered != 3 || st.Lost != 0 || !st.Observed {
		t.Fatalf("delivered %d lost %d observed %v; want 3, 0, true", st.Delivered, st.Lost, st.Observed)
	}
}
