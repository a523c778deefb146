// Package welcome is the Explorer's first screen, shown while no topic is
// selected: what runs (the local broker's addresses), ready-to-copy
// mosquitto_sub and mosquitto_pub lines to reach it, where the data is
// kept, and one click to send a test message. An empty tree and "Select a
// topic" told a new user none of that.
package welcome

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Info is what runs now.
type Info struct {
	Running bool
	// MQTT is the MQTT listener's host:port, WS the WebSocket URL; "" when
	// off.
	MQTT, WS string
	// Problem says why the broker is not running, if it failed.
	Problem string
	DataDir string
}

// TestTopic is where Send a test message publishes.
const TestTopic = "iotstudio/hello"

// Options are what the card reads and does.
type Options struct {
	// Info is read at Serve's start and every second after; it must not
	// block.
	Info func() Info
	// SendTest publishes a test message on TestTopic to the local broker.
	SendTest func() error
	// Do runs fn on the UI goroutine (fyne.Do; tests replace it).
	Do func(fn func())
}

// Card is the first screen.
type Card struct {
	opts    Options
	w       fyne.Window
	content fyne.CanvasObject

	state, dataDir, sent *widget.Label
	sub, pub, ws         *widget.Label
	sendBtn, wsCopy      *widget.Button
	lines                *fyne.Container
	last                 Info
}

// New builds the card; call on the UI goroutine.
func New(w fyne.Window, opts Options) *Card {
	if opts.Do == nil {
		opts.Do = fyne.Do
	}
	c := &Card{opts: opts, w: w}
	c.build()
	c.show(opts.Info())
	return c
}

// Content is the card's canvas object.
func (c *Card) Content() fyne.CanvasObject { return c.content }

func (c *Card) build() {
	title := widget.NewLabelWithStyle(lang.L("IoT Studio is ready"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.state = wrapped()
	c.dataDir = wrapped()
	c.sent = wrapped()
	c.sub, c.pub, c.ws = readOnly(), readOnly(), readOnly()
	c.sendBtn = widget.NewButtonWithIcon(lang.L("Send a test message"), theme.MailSendIcon(), c.onSend)
	c.lines = container.NewVBox(
		widget.NewLabel(lang.L("Watch everything from a terminal:")), c.copyRow(c.sub, nil),
		widget.NewLabel(lang.L("Publish from a terminal:")), c.copyRow(c.pub, nil),
		widget.NewLabel(lang.L("WebSocket clients (browsers, MQTT.js):")), c.copyRow(c.ws, &c.wsCopy),
	)
	hint := wrapped()
	hint.SetText(lang.L("Messages appear in the tree on the left as they arrive; select a topic to inspect it. " +
		"If you added users (Broker panel), add -u NAME -P PASSWORD to the commands."))
	c.content = container.NewVScroll(container.NewVBox(
		title, c.state, c.lines,
		container.NewHBox(c.sendBtn), c.sent,
		widget.NewSeparator(), c.dataDir, hint,
	))
}

func wrapped() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	return l
}

// readOnly is a command the user can select and copy, in full contrast
// (a disabled entry would grey it).
func readOnly() *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	l.Wrapping = fyne.TextWrapBreak
	return l
}

// copyRow is e with a button that copies its text; btn, if not nil, gets
// the button.
func (c *Card) copyRow(e *widget.Label, btn **widget.Button) fyne.CanvasObject {
	copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(e.Text)
	})
	if btn != nil {
		*btn = copyBtn
	}
	return container.NewBorder(nil, nil, nil, copyBtn, e)
}

// Serve re-reads Info every second until ctx ends, so the card follows a
// broker that starts, stops or moves to another port.
func (c *Card) Serve(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			info := c.opts.Info()
			c.opts.Do(func() { c.show(info) })
		}
	}
}

// show displays info; on the UI goroutine.
func (c *Card) show(info Info) {
	if info == c.last && c.state.Text != "" {
		return
	}
	c.last = info
	c.dataDir.SetText(lang.L("Data (captured traffic, retained messages, settings) is kept in ") + info.DataDir)
	if !info.Running || info.MQTT == "" {
		msg := lang.L("The local broker is not running: start it in the Broker panel.")
		if info.Problem != "" {
			msg = lang.L("The local broker is not running: ") + sentence(info.Problem) + lang.L(" Change its settings in the Broker panel.")
		}
		c.state.SetText(msg)
		c.lines.Hide()
		c.sendBtn.Disable()
		return
	}
	host, port, err := net.SplitHostPort(info.MQTT)
	if err != nil {
		host, port = info.MQTT, "1883"
	}
	c.state.SetText(fmt.Sprintf(lang.L("The local broker is running at mqtt://%s. Any MQTT client can connect to it."), info.MQTT))
	c.sub.SetText(fmt.Sprintf("mosquitto_sub -h %s -p %s -t '#' -v", host, port))
	c.pub.SetText(fmt.Sprintf("mosquitto_pub -h %s -p %s -t %s -m 'Hello from a terminal'", host, port, TestTopic))
	if info.WS != "" {
		c.ws.SetText(info.WS)
		c.wsCopy.Show()
	} else {
		c.ws.SetText(lang.L("off (turn it on in the Broker panel's settings)"))
		c.wsCopy.Hide() // nothing to copy
	}
	c.lines.Show()
	c.sendBtn.Enable()
}

func (c *Card) onSend() {
	if err := c.opts.SendTest(); err != nil {
		c.sent.SetText(lang.L("Could not send: ") + err.Error())
		return
	}
	c.sent.SetText(fmt.Sprintf(lang.L("Sent to %s at %s: it is in the tree on the left."), TestTopic, time.Now().Format("15:04:05")))
}

// sentence ends an error's words with a full stop, so that the hint after
// it reads as the next sentence: engine errors mostly end without one.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "。") {
		return s
	}
	return s + "."
}
