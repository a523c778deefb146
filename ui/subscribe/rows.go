package subscribe

import (
	"encoding/hex"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// msgRow is one row of the message list: the colour of the subscription
// the message matched, its time, topic and the start of its payload.
type msgRow struct {
	widget.BaseWidget
	swatch  *canvas.Rectangle
	time    *widget.Label
	topic   *widget.Label
	preview *widget.Label
	e       *entry
}

func newMsgRow() *msgRow {
	r := &msgRow{swatch: canvas.NewRectangle(noColourFill), time: widget.NewLabel("00:00:00.000"),
		topic: widget.NewLabel(""), preview: widget.NewLabel("")}
	r.swatch.SetMinSize(fyne.NewSize(8, 18))
	r.topic.Truncation = fyne.TextTruncateEllipsis
	r.preview.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *msgRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewHBox(r.swatch, r.time), nil,
		container.NewGridWithColumns(2, r.topic, r.preview)))
}

func (r *msgRow) set(e *entry) {
	if r.e == e {
		return
	}
	r.e = e
	r.swatch.FillColor = colourOf(e.colour)
	r.swatch.Refresh()
	r.time.SetText(e.rec.Time.Local().Format("15:04:05.000"))
	r.topic.SetText(e.rec.Topic)
	r.preview.SetText(e.preview)
}

// showDetail shows a message's metadata and its whole kept payload,
// decoded by engine/decode (nil clears the view).
func (p *Panel) showDetail(e *entry) {
	p.selected = e
	if e == nil {
		p.detail = nil
		p.detailMeta.SetText(lang.L("Select a message to see its payload and properties."))
		p.detailPayload.Refresh()
		return
	}
	r := e.rec
	p.detail = decode.Decode(decode.Auto, r.Topic, r.Payload, r.ContentType)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Topic)
	fmt.Fprintf(&b, lang.L("%s · %s · QoS %d"), r.Time.Local().Format("2006-01-02 15:04:05.000"), localname.Label(r.Source), r.QoS)
	if r.Retain {
		b.WriteString(lang.L(" · retained"))
	}
	fmt.Fprintf(&b, lang.L(" · %s bytes\n"), numfmt.Count(int64(e.size)))
	if e.filter != "" {
		fmt.Fprintf(&b, lang.L("Subscription: %s\n"), e.filter)
	} else {
		b.WriteString(lang.L("Subscription: none of the current ones (it arrived as one was removed)\n"))
	}
	if r.ContentType != "" {
		fmt.Fprintf(&b, lang.L("Content type: %s\n"), r.ContentType)
	}
	if r.PayloadFormat != nil {
		fmt.Fprintf(&b, lang.L("Payload format indicator: %d\n"), *r.PayloadFormat)
	}
	if r.MessageExpiry != nil {
		fmt.Fprintf(&b, lang.L("Message expiry: %d s\n"), *r.MessageExpiry)
	}
	if r.ResponseTopic != "" {
		fmt.Fprintf(&b, lang.L("Response topic: %s\n"), r.ResponseTopic)
	}
	if r.CorrelationData != nil {
		fmt.Fprintf(&b, lang.L("Correlation data: %s\n"), hex.EncodeToString(r.CorrelationData))
	}
	for _, u := range r.UserProps {
		fmt.Fprintf(&b, lang.L("User property: %s = %s\n"), u.Key, u.Value)
	}
	fmt.Fprintf(&b, lang.L("Shown as %s"), numfmt.FormatLabel(p.detail.Format))
	if p.detail.Err != nil {
		fmt.Fprintf(&b, lang.L(" (%s did not fit: %v)"), numfmt.FormatLabel(p.detail.Tried), p.detail.Err)
	}
	if e.clipped() {
		fmt.Fprintf(&b, lang.L("\nOnly the first %s of %s are kept here; the whole payload is in the capture."),
			numfmt.Bytes(int64(len(r.Payload))), numfmt.Bytes(int64(e.size)))
	}
	p.detailMeta.SetText(b.String())
	p.detailPayload.ScrollToTop()
	p.detailPayload.Refresh()
}

// showStatus says what the list holds, what it let go, and that the
// capture has the rest.
func (p *Panel) showStatus() {
	if p.source == "" {
		p.status.SetText(lang.L("Messages of the selected connection's subscriptions appear here."))
		return
	}
	c := p.counts
	var b strings.Builder
	fmt.Fprintf(&b, lang.L("%s received on %s · %s listed"), numfmt.Count(c.received), localname.Label(p.source), numfmt.Count(int64(len(p.view))))
	if p.paused {
		fmt.Fprintf(&b, lang.L(" · Paused: %s more arrived since"), numfmt.Count(c.received-p.pausedAt))
	}
	fmt.Fprintf(&b, lang.L("\nIn memory: %s messages (%s) of all connections, at most the newest %s (%s); older ones are in the capture."),
		numfmt.Count(int64(c.kept)), numfmt.Bytes(int64(c.keptBytes)), numfmt.Count(int64(p.store.maxCount)), numfmt.Bytes(int64(p.store.maxBytes)))
	if c.evicted > 0 {
		fmt.Fprintf(&b, lang.L(" %s have left the list so far."), numfmt.Count(c.evicted))
	}
	if c.clipped > 0 {
		fmt.Fprintf(&b, lang.L(" Payloads over %s are kept in part (%s so far)."), numfmt.Bytes(int64(p.store.keepPayload)), numfmt.Count(c.clipped))
	}
	p.status.SetText(b.String())
}
