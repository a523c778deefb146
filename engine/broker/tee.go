package broker

import (
	"reflect"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// Tee is a Recorder that hands every record to each of its recorders in
// turn, so that one broker feeds both the capture and the live topic
// model. All recorders see the same record, slices included: each must
// copy what it keeps and none may modify them. Ingest reports false if any
// recorder dropped the record (each counts its own drops); it still offers
// the record to the rest, since one full queue must not blind the others.
type Tee []Recorder

// NewTee returns a Tee of the recorders that are not nil, or the only one
// itself, or nil (no tap at all) when none is left. A nil pointer inside a
// Recorder counts as nil too: the app holds the capture as a
// *capture.Store that is nil when capture is off, and passing it would
// otherwise make a non-nil Recorder that panics on the first message.
func NewTee(recs ...Recorder) Recorder {
	var t Tee
	for _, r := range recs {
		if r == nil {
			continue
		}
		if v := reflect.ValueOf(r); v.Kind() == reflect.Pointer && v.IsNil() {
			continue
		}
		t = append(t, r)
	}
	switch len(t) {
	case 0:
		return nil
	case 1:
		return t[0]
	}
	return t
}

// Ingest implements Recorder.
func (t Tee) Ingest(r capture.Record) bool {
	ok := true
	for _, rec := range t {
		if !rec.Ingest(r) {
			ok = false
		}
	}
	return ok
}
