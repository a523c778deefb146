package subscribe

import (
	"image/color"
	"strings"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

// palette holds the subscription colours: saturated enough to tell apart
// on the light and the dark theme alike.
var palette = []color.NRGBA{
	{0xe6, 0x19, 0x4b, 0xff}, // red
	{0x3c, 0xb4, 0x4b, 0xff}, // green
	{0x43, 0x63, 0xd8, 0xff}, // blue
	{0xf5, 0x82, 0x31, 0xff}, // orange
	{0x91, 0x1e, 0xb4, 0xff}, // purple
	{0x46, 0x99, 0x90, 0xff}, // teal
	{0xf0, 0x32, 0xe6, 0xff}, // magenta
	{0x9a, 0x63, 0x24, 0xff}, // brown
}

// noColour marks a message that matched none of its connection's
// subscriptions (one that arrived just as its subscription went away).
const noColour = -1

// noColourFill is the swatch of such messages.
var noColourFill = color.NRGBA{0x80, 0x80, 0x80, 0x60}

func colourOf(i int) color.Color {
	if i < 0 || i >= len(palette) {
		return noColourFill
	}
	return palette[i]
}

// held is a subscription a connection holds, with its colour and what
// topics are matched against ($share/group/ taken off).
type held struct {
	client.Subscription
	colour int
	match  string
	rank   specificity
}

// specificity orders filters from the loosest to the most specific: more
// literal levels first, then no '#', then fewer '+'. "a/b/c" beats
// "a/+/c", which beats "a/#", which beats "#".
type specificity struct{ literal, noHash, fewerPlus int }

func (s specificity) beats(o specificity) bool {
	if s.literal != o.literal {
		return s.literal > o.literal
	}
	if s.noHash != o.noHash {
		return s.noHash > o.noHash
	}
	return s.fewerPlus > o.fewerPlus
}

func rank(filter string) specificity {
	var s specificity
	s.noHash = 1
	for level := range strings.SplitSeq(filter, "/") {
		switch level {
		case "#":
			s.noHash = 0
		case "+":
			s.fewerPlus--
		default:
			s.literal++
		}
	}
	return s
}

// colours gives each subscription of each connection a colour that stays
// while the subscription does. It is owned by the refresh goroutine.
type colours struct {
	bySource map[string][]held
}

// update replaces source's subscriptions with subs, keeping the colours of
// the filters it had and giving new ones the least used colour.
func (c *colours) update(source string, subs []client.Subscription) []held {
	if c.bySource == nil {
		c.bySource = map[string][]held{}
	}
	old := map[string]int{}
	for _, h := range c.bySource[source] {
		old[h.Filter] = h.colour
	}
	used := make([]int, len(palette))
	out := make([]held, 0, len(subs))
	var fresh []int
	for _, s := range subs {
		_, inner, _ := message.SharedFilter(s.Filter)
		h := held{Subscription: s, colour: noColour, match: inner, rank: rank(inner)}
		if message.CheckFilter(s.Filter) != nil {
			h.match = "" // made elsewhere and invalid: never matched, never coloured
		} else if col, ok := old[s.Filter]; ok {
			h.colour = col
			used[col]++
		} else {
			fresh = append(fresh, len(out))
		}
		out = append(out, h)
	}
	for _, i := range fresh {
		col := 0
		for j := range used {
			if used[j] < used[col] {
				col = j
			}
		}
		out[i].colour = col
		used[col]++
	}
	c.bySource[source] = out
	return out
}

// forget drops a connection that is no longer open.
func (c *colours) forget(keep map[string]bool) {
	for s := range c.bySource {
		if !keep[s] {
			delete(c.bySource, s)
		}
	}
}

// best returns the most specific of source's subscriptions that topic
// matches, or nil. buf is scratch space for the topic's bytes.
func (c *colours) best(source, topic string, buf *[]byte) *held {
	subs := c.bySource[source]
	if len(subs) == 0 {
		return nil
	}
	*buf = append((*buf)[:0], topic...)
	var best *held
	for i := range subs {
		h := &subs[i]
		if h.match == "" || !message.MatchTopic(h.match, *buf) {
			continue
		}
		if best == nil || h.rank.beats(best.rank) {
			best = h
		}
	}
	return best
}
