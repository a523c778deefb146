package infer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// group is the messages of one topic shape: one stream.
type group struct {
	topic     string // template
	perDevice bool   // the topic holds the device ID (or the client ID is the device)
	src       idSource
	msgs      []*message.Message // oldest first
	devices   map[string]bool
}

// groupStreams sorts messages into topic shapes; topics is the number of
// distinct topics seen.
func groupStreams(msgs []message.Message, src idSource) (groups []*group, topics int) {
	byTopic := map[string]*group{}
	seen := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		seen[m.Topic] = true
		dev, perDevice := src.deviceOf(m)
		tmpl := templateLiteral(m.Topic)
		if perDevice && src.level >= 0 {
			tmpl = src.topicTemplate(m.Topic)
		}
		g := byTopic[tmpl]
		if g == nil {
			g = &group{topic: tmpl, perDevice: perDevice, src: src, devices: map[string]bool{}}
			byTopic[tmpl] = g
			groups = append(groups, g)
		}
		g.msgs = append(g.msgs, m)
		g.devices[dev] = true
	}
	return groups, len(seen)
}

// maxSkipped bounds the skipped topics the report lists one by one: a
// capture of a busy broker has thousands.
const maxSkipped = 20

// pickStreams keeps the streams every device would publish: those whose
// topic holds the device and that at least half the devices of the
// widest stream published, the busiest first, up to opt.MaxStreams. The
// rest are reported as skipped with why, since a fleet would otherwise
// publish a gateway's topic from every device.
func pickStreams(groups []*group, src idSource, opt Options, rep *Report) []*group {
	sort.SliceStable(groups, func(i, j int) bool {
		if len(groups[i].msgs) != len(groups[j].msgs) {
			return len(groups[i].msgs) > len(groups[j].msgs)
		}
		return groups[i].topic < groups[j].topic
	})
	widest := 0
	for _, g := range groups {
		if g.perDevice {
			widest = max(widest, len(g.devices))
		}
	}
	var kept []*group
	for _, g := range groups {
		switch {
		case !g.perDevice:
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d messages, no device ID at topic level %d", g.topic, len(g.msgs), src.level+1))
		case 2*len(g.devices) < widest:
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d messages from %d of %d devices (e.g. on %s)", g.topic, len(g.msgs), len(g.devices), widest, g.msgs[0].Topic))
		case len(kept) == opt.MaxStreams:
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d messages, beyond the %d busiest streams", g.topic, len(g.msgs), opt.MaxStreams))
		default:
			kept = append(kept, g)
		}
	}
	if n := len(rep.Skipped); n > maxSkipped {
		rep.Skipped = append(rep.Skipped[:maxSkipped], fmt.Sprintf("… and %d more", n-maxSkipped))
	}
	return kept
}

// stream builds the profile's stream and its report, and the per-device
// variable a text template prints, if it needs one.
func (g *group) stream(name string, opt Options) (scenario.Stream, StreamReport, *scenario.NamedField) {
	every, jitter, note := g.interval()
	st := scenario.Stream{
		Name:   name,
		Topic:  g.topic,
		Every:  scenario.Duration(every),
		Jitter: scenario.Duration(jitter),
		QoS:    g.qos(),
		Retain: g.retain(),
	}
	sr := StreamReport{Name: name, Topic: g.topic, Messages: len(g.msgs), Devices: len(g.devices),
		Every: every, Jitter: jitter, QoS: st.QoS, Retain: st.Retain}
	if note != "" {
		sr.Notes = append(sr.Notes, note)
	}
	st.Properties = g.properties()
	v := g.payload(&st, &sr, opt)
	return st, sr, v
}

// interval is the median gap between a device's consecutive messages on
// the stream, and a jitter covering the middle 90% of the gaps around it.
func (g *group) interval() (every, jitter time.Duration, note string) {
	last := map[string]time.Time{}
	var gaps []float64
	for _, m := range g.msgs {
		dev, _ := g.src.deviceOf(m)
		if t, ok := last[dev]; ok {
			gaps = append(gaps, float64(m.Time.Sub(t)))
		}
		last[dev] = m.Time
	}
	if len(gaps) == 0 {
		return time.Minute, 0, "one message per device: the interval could not be measured, 1m is a guess"
	}
	sort.Float64s(gaps)
	med := gaps[len(gaps)/2]
	lo, hi := gaps[len(gaps)*5/100], gaps[(len(gaps)-1)*95/100]
	every = roundDuration(time.Duration(med))
	if every <= 0 {
		return time.Millisecond, 0, "messages arrive in bursts (median gap under 1ms)"
	}
	spread := time.Duration(math.Max(med-lo, hi-med))
	// The parser wants a jitter shorter than the interval; gaps that vary
	// more than half of it are bursts or pauses a jitter cannot express.
	jitter = min(roundDuration(spread), every/2)
	if jitter < every/100 { // below 1%: scheduling noise, not a behaviour
		jitter = 0
	}
	if spread > every/2 {
		note = fmt.Sprintf("the gaps vary from %v to %v: the jitter is capped at half the interval", roundDuration(time.Duration(lo)), roundDuration(time.Duration(hi)))
	}
	return every, jitter, note
}

// roundDuration keeps about three significant digits, so 4.998s reads 5s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func (g *group) qos() byte {
	var n [3]int
	for _, m := range g.msgs {
		if m.QoS < 3 {
			n[m.QoS]++
		}
	}
	q := byte(0)
	for i := range n {
		if n[i] > n[q] {
			q = byte(i)
		}
	}
	return q
}

func (g *group) retain() bool {
	n := 0
	for _, m := range g.msgs {
		if m.Retain {
			n++
		}
	}
	return 2*n > len(g.msgs)
}

// properties keeps the MQTT 5 content type and payload format when every
// message of the stream had the same one.
func (g *group) properties() *scenario.Properties {
	ct, pf := g.msgs[0].ContentType, g.msgs[0].PayloadFormat
	for _, m := range g.msgs[1:] {
		if m.ContentType != ct {
			ct = ""
		}
		if (m.PayloadFormat == nil) != (pf == nil) || (pf != nil && *m.PayloadFormat != *pf) {
			pf = nil
		}
	}
	if ct == "" && pf == nil {
		return nil
	}
	p := &scenario.Properties{ContentType: ct}
	if pf != nil {
		v := *pf
		p.PayloadFormat = &v
	}
	return p
}

// payload picks the stream's payload from what most of its messages were:
// JSON objects become fields, text a template, binary a raw payload.
func (g *group) payload(st *scenario.Stream, sr *StreamReport, opt Options) *scenario.NamedField {
	root := newObjectObs()
	jsonN, textN := 0, 0
	for _, m := range g.msgs {
		if obj, ok := parseObject(m.Payload); ok {
			dev, _ := g.src.deviceOf(m)
			root.add(obj, dev, m.Time)
			jsonN++
		} else if utf8.Valid(m.Payload) {
			textN++
		}
	}
	binN := len(g.msgs) - jsonN - textN
	switch {
	case jsonN >= textN && jsonN >= binN:
		sr.Payload = "json"
		st.Fields = root.generators("", jsonN, opt, &sr.Fields)
		if jsonN < len(g.msgs) {
			sr.Notes = append(sr.Notes, fmt.Sprintf("%d of %d payloads were not JSON objects; left out", len(g.msgs)-jsonN, len(g.msgs)))
		}
	case textN >= binN:
		sr.Payload = "text"
		return g.textPayload(st, sr, opt)
	default:
		sr.Payload = "binary"
		p := mostCommonPayload(g.msgs, func(p []byte) bool { return !utf8.Valid(p) })
		st.Raw = &scenario.Raw{Base64: base64.StdEncoding.EncodeToString(p)}
		sr.Notes = append(sr.Notes, fmt.Sprintf("binary payloads: the most common of %d is sent as is (%d bytes); edit it or decode it into fields", binN, len(p)))
	}
	return nil
}

// textPayload is a template: the text itself when it never changed, else
// the observed texts as a choice. A template cannot hold a per-message
// generator, so the choice is a per-device variable the template prints.
func (g *group) textPayload(st *scenario.Stream, sr *StreamReport, opt Options) *scenario.NamedField {
	f := &fieldObs{name: "payload", series: map[string][]obs{}, types: map[string]int{}, devices: map[string]bool{}}
	for _, m := range g.msgs {
		if _, ok := parseObject(m.Payload); ok || !utf8.Valid(m.Payload) {
			continue
		}
		dev, _ := g.src.deviceOf(m)
		f.series[dev] = append(f.series[dev], obs{m.Time, string(m.Payload)})
		f.count++
		f.types["string"]++
	}
	field, fr := choiceField(f, opt)
	fr.Path, fr.Count = "(text payload)", f.count
	sr.Fields = append(sr.Fields, fr)
	if field.Const != nil {
		st.Template = templateText(field.Const.(string))
		return nil
	}
	st.Template = "{{.Vars." + st.Name + "}}"
	sr.Notes = append(sr.Notes, fmt.Sprintf("%d different texts: each device picks one (vars.%s); make it a JSON field to vary per message", fr.Distinct, st.Name))
	return &scenario.NamedField{Name: st.Name, Field: field}
}

// templateText makes a literal text a template that prints it as is.
func templateText(s string) string {
	if s != "" && !strings.Contains(s, "{{") {
		return s
	}
	return fmt.Sprintf("{{%q}}", s)
}

// mostCommonPayload returns the most frequent payload among those ok
// accepts (the earliest on a tie).
func mostCommonPayload(msgs []*message.Message, ok func([]byte) bool) []byte {
	counts := map[string]int{}
	var best []byte
	bestN := 0
	for _, m := range msgs {
		if !ok(m.Payload) {
			continue
		}
		k := string(m.Payload)
		counts[k]++
		if counts[k] > bestN {
			best, bestN = m.Payload, counts[k]
		}
	}
	return bytes.Clone(best)
}
