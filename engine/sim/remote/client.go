package remote

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Client drives a run in another process.
type Client struct {
	stdin io.WriteCloser
	cmd   *exec.Cmd

	wmu    sync.Mutex // one request line at a time
	mu     sync.Mutex
	nextID uint64
	wait   map[uint64]chan Reply
	stats  map[string]Stats // the latest line per fleet
	order  []string         // fleets in the order their lines came
	tail   tail             // the end of the run's stderr, for its error
	// onStats is called after each stats line is stored (see OnStats).
	onStats func(Stats)

	done chan struct{}
	err  error // set before done closes
}

// Option configures a Client at Start.
type Option func(*Client)

// OnStats has f called with each stats line, on the Client's reading
// goroutine, once Stats returns it: the moment to read whatever the
// caller counts beside the run (the window's count of delivered messages)
// as of the line's Time.
func OnStats(f func(Stats)) Option { return func(c *Client) { c.onStats = f } }

// Start starts cmd, a `simulate run --control` command line, and reads
// what it writes. Its stdin, stdout and stderr must not be set.
func Start(cmd *exec.Cmd, opts ...Option) (*Client, error) {
	c := &Client{cmd: cmd, wait: map[uint64]chan Reply{}, stats: map[string]Stats{}, done: make(chan struct{})}
	for _, o := range opts {
		o(c)
	}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = &c.tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the device fleet's process (%s): %w", cmd.Path, err)
	}
	go c.read(out)
	return c, nil
}

func (c *Client) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // a device list of 100,000 rows
	for sc.Scan() {
		c.line(sc.Bytes())
	}
	_, _ = io.Copy(io.Discard, out)
	err := c.cmd.Wait()
	c.mu.Lock()
	for id, ch := range c.wait {
		close(ch)
		delete(c.wait, id)
	}
	c.mu.Unlock()
	if err != nil {
		c.err = fmt.Errorf("the device fleet's process ended: %v%s", err, c.tail.words())
	}
	close(c.done)
}

func (c *Client) line(b []byte) {
	var head struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(b, &head) != nil {
		return
	}
	switch head.Kind {
	case KindStats, KindSummary:
		var st Stats
		if json.Unmarshal(b, &st) != nil {
			return
		}
		c.mu.Lock()
		if _, ok := c.stats[st.Fleet]; !ok {
			c.order = append(c.order, st.Fleet)
		}
		c.stats[st.Fleet] = st
		c.mu.Unlock()
		if c.onStats != nil {
			c.onStats(st)
		}
	case KindReply:
		var rep Reply
		if json.Unmarshal(b, &rep) != nil {
			return
		}
		c.mu.Lock()
		ch := c.wait[rep.ID]
		delete(c.wait, rep.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	}
}

// Stats is the latest stats line of each fleet, in the order the fleets
// first reported.
func (c *Client) Stats() []Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Stats, len(c.order))
	for i, f := range c.order {
		out[i] = c.stats[f]
	}
	return out
}

// ErrEnded is what a call gets once the run's process has ended.
var ErrEnded = errors.New("the device fleet has stopped")

// Call sends req and waits up to timeout for its reply; the reply's
// Error becomes the returned error.
func (c *Client) Call(req Request, timeout time.Duration) (Reply, error) {
	ch := make(chan Reply, 1)
	c.mu.Lock()
	c.nextID++
	req.ID = c.nextID
	c.wait[req.ID] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.wait, req.ID)
		c.mu.Unlock()
	}
	b, err := json.Marshal(req)
	if err != nil {
		forget()
		return Reply{}, err
	}
	c.wmu.Lock()
	_, err = c.stdin.Write(append(b, '\n'))
	c.wmu.Unlock()
	if err != nil {
		forget()
		return Reply{}, ErrEnded
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case rep, ok := <-ch:
		if !ok {
			return Reply{}, ErrEnded
		}
		if rep.Error != "" {
			return rep, errors.New(rep.Error)
		}
		return rep, nil
	case <-t.C:
		forget()
		return Reply{}, fmt.Errorf("the device fleet's process did not answer %q within %v", req.Op, timeout)
	}
}

// Stop asks the run to stop gracefully; if it has not ended after grace,
// its process is killed. It does not wait.
func (c *Client) Stop(grace time.Duration) {
	c.wmu.Lock()
	// Closing stdin is the stop: it also covers a run too busy to read.
	_ = c.stdin.Close()
	c.wmu.Unlock()
	go func() {
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = c.cmd.Process.Kill()
		}
	}()
}

// Done is closed once the process has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the process ended, nil for a clean exit; valid after Done.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// tail keeps the last few KB of what the process wrote to stderr.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailKeep = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailKeep {
		t.buf = t.buf[len(t.buf)-tailKeep:]
	}
	return len(p), nil
}

// words is the last line of stderr, worded to follow an error.
func (t *tail) words() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(t.buf, nil))), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	last = strings.TrimPrefix(last, "iotstudio: ")
	if last == "" {
		return ""
	}
	return ": " + last
}
