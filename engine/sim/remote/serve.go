package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
)

// Fleet is one fleet of the served run: its runner and the source that
// keeps its devices' detail.
type Fleet struct {
	Runner  *fleet.Runner
	Devices *device.Tracked
}

// Serve answers the Requests read from in, writing each Reply with
// write, until in ends or ctx does. A stop request, or the end of in (the
// driver is gone), calls stop once. write must be safe to call while
// stats lines are written.
func Serve(ctx context.Context, in io.Reader, write func(any), fleets []Fleet, stop func()) {
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), maxRequest)
		for sc.Scan() {
			select {
			case lines <- append([]byte(nil), sc.Bytes()...):
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case line, ok := <-lines:
			if !ok {
				stop()
				return
			}
			var req Request
			if err := json.Unmarshal(line, &req); err != nil {
				write(Reply{Kind: KindReply, Error: fmt.Sprintf("a request line is not JSON (%v): %.80q", err, line)})
				continue
			}
			write(answer(req, fleets, stop))
		}
	}
}

// maxRequest bounds one request line: a command payload up to 1 MiB,
// base64-encoded.
const maxRequest = 2 << 20

func answer(req Request, fleets []Fleet, stop func()) Reply {
	rep := Reply{Kind: KindReply, ID: req.ID}
	var err error
	switch req.Op {
	case OpDevices:
		rep.Devices = rows(fleets)
	case OpDetail:
		rep.State, rep.Last, err = detail(fleets, req.Device)
	case OpKill:
		err = withOwner(fleets, req.Device, func(f Fleet) error { return f.Runner.Kill(req.Device) })
	case OpCommand:
		err = command(fleets, req)
	case OpPause, OpResume:
		for _, f := range fleets {
			if req.Op == OpPause {
				f.Runner.Pause()
			} else {
				f.Runner.Resume()
			}
		}
	case OpStop:
		stop()
	default:
		err = fmt.Errorf("unknown operation %q", req.Op)
	}
	if err != nil {
		rep.Error = err.Error()
	}
	return rep
}

func rows(fleets []Fleet) []DeviceRow {
	var out []DeviceRow
	for _, f := range fleets {
		for _, d := range f.Runner.Devices() {
			out = append(out, DeviceRow{ID: d.ID, ClientID: d.ClientID, State: d.State.String(), Sent: d.Sent, LastError: d.LastError})
		}
	}
	return out
}

func withOwner(fleets []Fleet, id string, do func(Fleet) error) error {
	for _, f := range fleets {
		if f.Devices.Has(id) {
			return do(f)
		}
	}
	return fmt.Errorf("no device %q in this run", id)
}

func detail(fleets []Fleet, id string) (map[string]any, []Sent, error) {
	var state map[string]any
	var last []Sent
	err := withOwner(fleets, id, func(f Fleet) error {
		s, sent, _ := f.Devices.Detail(id)
		state = s
		for _, m := range sent {
			last = append(last, Sent{Topic: m.Topic, Payload: m.Payload, AtMS: ms(m.At)})
		}
		return nil
	})
	return state, last, err
}

func command(fleets []Fleet, req Request) error {
	if _, err := message.ValidateTopicName(req.Topic); err != nil {
		return fmt.Errorf("command topic %q: %w", req.Topic, err)
	}
	if req.Topic == "" {
		return errors.New("a command needs a topic")
	}
	return withOwner(fleets, req.Device, func(f Fleet) error {
		return f.Runner.Command(req.Device, message.Message{Topic: req.Topic, Payload: req.Payload, Time: time.Now()})
	})
}
