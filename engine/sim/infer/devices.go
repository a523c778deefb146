package infer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// idSource is where a message's device ID comes from: a topic level, or
// the publisher's client ID when no level varies like one.
type idSource struct {
	level  int  // 0-based topic level holding the ID; -1: none
	client bool // the client ID is the device ID
}

// deviceOf returns the device a message belongs to, and whether its topic
// has the device in it (false for a topic above the ID level).
func (s idSource) deviceOf(m *message.Message) (id string, perDevice bool) {
	switch {
	case s.level >= 0:
		levels := strings.Split(m.Topic, "/")
		if len(levels) <= s.level {
			return "", false
		}
		return levels[s.level], true
	case s.client:
		return m.ClientID, true
	}
	return "", true // one device
}

// topicTemplate is the stream topic of m: its ID level replaced by {{.ID}},
// the rest kept literally.
func (s idSource) topicTemplate(topic string) string {
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		if i == s.level {
			levels[i] = "{{.ID}}"
		} else {
			levels[i] = templateLiteral(l)
		}
	}
	return strings.Join(levels, "/")
}

// templateLiteral makes s safe in a text/template: a "{{" in a topic
// would otherwise start an action.
func templateLiteral(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}

// describe says in words where device IDs came from, for the report.
func (s idSource) describe() string {
	switch {
	case s.level >= 0:
		return fmt.Sprintf("topic level %d", s.level+1)
	case s.client:
		return "publisher client ID"
	}
	return "none (one device)"
}

// levelStats is what one topic level looks like across the topics.
type levelStats struct {
	level    int
	values   int     // distinct values at the level
	collapse float64 // topics per shape once the level is a wildcard
	oneToOne bool    // each value is published by one client, each client publishes one value
}

// detectIDSource finds the topic level that varies like a device ID: many
// distinct values that share the same sibling structure (replacing the
// level by a wildcard folds many topics into few shapes). A level whose
// values map 1:1 onto publisher client IDs is preferred, then the one
// that folds the most topics, then the earlier one (a device usually
// comes before its measurements). Without such a level, distinct client
// IDs are the devices.
func detectIDSource(msgs []message.Message, forced int) idSource {
	if forced > 0 {
		return idSource{level: forced - 1}
	}
	if forced < 0 {
		return idSource{level: -1, client: true}
	}
	topics := map[string]bool{}
	clients := map[string]bool{}
	for i := range msgs {
		topics[msgs[i].Topic] = true
		clients[msgs[i].ClientID] = true
	}
	var best *levelStats
	for _, st := range topicLevelStats(msgs, topics) {
		if st.values < 2 || st.collapse < 2 || (!st.oneToOne && publishedTogether(msgs, st.level)) {
			continue
		}
		if best == nil || better(st, *best) {
			s := st
			best = &s
		}
	}
	if best != nil {
		return idSource{level: best.level}
	}
	if lvl, ok := clientLevel(msgs); ok {
		return idSource{level: lvl}
	}
	if len(clients) >= 2 {
		return idSource{level: -1, client: true}
	}
	return idSource{level: -1}
}

func better(a, b levelStats) bool {
	if a.oneToOne != b.oneToOne {
		return a.oneToOne
	}
	if a.collapse != b.collapse {
		return a.collapse > b.collapse
	}
	return a.level < b.level
}

func topicLevelStats(msgs []message.Message, topics map[string]bool) []levelStats {
	split := make(map[string][]string, len(topics))
	depth := 0
	for t := range topics {
		split[t] = strings.Split(t, "/")
		depth = max(depth, len(split[t]))
	}
	var out []levelStats
	for lvl := range depth {
		values := map[string]bool{}
		shapes := map[string]bool{}
		n := 0
		for _, levels := range split {
			if len(levels) <= lvl {
				continue
			}
			n++
			values[levels[lvl]] = true
			shape := append([]string(nil), levels...)
			shape[lvl] = "\x00"
			shapes[strings.Join(shape, "/")] = true
		}
		if n == 0 {
			continue
		}
		out = append(out, levelStats{
			level:    lvl,
			values:   len(values),
			collapse: float64(n) / float64(len(shapes)),
			oneToOne: levelMatchesClients(msgs, lvl),
		})
	}
	return out
}

// burstWindow is how close in time one client's messages on different
// values of a level must be to count as one burst: a device publishing
// its temperature and humidity topics in the same loop, received within
// a few milliseconds, not separate devices reporting on their own.
const burstWindow = 5 * time.Millisecond

// publishedTogether reports whether most messages at level come in bursts
// with a message of the same client on another value of the level: the
// level then names a device's measurements (dev1/temp, dev1/hum), not
// devices, however many topics it folds.
func publishedTogether(msgs []message.Message, level int) bool {
	type hit struct {
		t     time.Time
		value string
	}
	byClient := map[string][]hit{}
	n := 0
	for i := range msgs { // msgs are in time order
		levels := strings.Split(msgs[i].Topic, "/")
		if len(levels) <= level {
			continue
		}
		byClient[msgs[i].ClientID] = append(byClient[msgs[i].ClientID], hit{msgs[i].Time, levels[level]})
		n++
	}
	together := 0
	for _, hits := range byClient {
		for i, h := range hits {
			near := func(j int) bool {
				return j >= 0 && j < len(hits) && hits[j].value != h.value && absDur(hits[j].t.Sub(h.t)) <= burstWindow
			}
			if near(i-1) || near(i+1) {
				together++
			}
		}
	}
	return n > 0 && 2*together > n
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// clientLevel finds the topic level that always equals the publisher's
// client ID, so that even one device's topics get a {{.ID}} where its
// name is (home/node1/temp from client node1).
func clientLevel(msgs []message.Message) (int, bool) {
	depth := 0
	for i := range msgs {
		depth = max(depth, strings.Count(msgs[i].Topic, "/")+1)
	}
	for lvl := range depth {
		if levelIsClient(msgs, lvl) {
			return lvl, true
		}
	}
	return 0, false
}

func levelIsClient(msgs []message.Message, lvl int) bool {
	for i := range msgs {
		levels := strings.Split(msgs[i].Topic, "/")
		if len(levels) <= lvl || msgs[i].ClientID == "" || levels[lvl] != msgs[i].ClientID {
			return false
		}
	}
	return len(msgs) > 0
}

// levelMatchesClients reports whether the values at level map 1:1 onto
// the publishers' client IDs (with no empty client ID).
func levelMatchesClients(msgs []message.Message, level int) bool {
	byValue := map[string]string{}
	byClient := map[string]string{}
	for i := range msgs {
		levels := strings.Split(msgs[i].Topic, "/")
		if len(levels) <= level {
			continue
		}
		v, c := levels[level], msgs[i].ClientID
		if c == "" {
			return false
		}
		if old, ok := byValue[v]; ok && old != c {
			return false
		}
		if old, ok := byClient[c]; ok && old != v {
			return false
		}
		byValue[v], byClient[c] = c, v
	}
	return len(byValue) > 0
}

// clientIDTemplate returns a client_id template over .ID when every device
// publishes under one client ID made of the same prefix and suffix around
// its ID ("" when the client ID is the ID itself, the fleet's default).
// ok is false when client IDs do not map 1:1 onto devices.
func clientIDTemplate(clientsByDevice map[string]map[string]bool) (tmpl string, ok bool) {
	prefix, suffix := "", ""
	first := true
	seen := map[string]bool{}
	for id, clients := range clientsByDevice {
		if len(clients) != 1 {
			return "", false
		}
		var c string
		for c = range clients {
		}
		if c == "" || seen[c] {
			return "", false
		}
		seen[c] = true
		i := strings.Index(c, id)
		if i < 0 {
			return "", false
		}
		p, s := c[:i], c[i+len(id):]
		if first {
			prefix, suffix, first = p, s, false
		} else if p != prefix || s != suffix {
			return "", false
		}
	}
	if first || (prefix == "" && suffix == "") {
		return "", !first
	}
	return templateLiteral(prefix) + "{{.ID}}" + templateLiteral(suffix), true
}

// idTemplate proposes the fleet's device ID template when the observed
// IDs are a common prefix and a number ("dev01".."dev20" → dev{{printf
// "%02d" .Index}}), so the simulated devices look like the real ones. It
// returns "" (the fleet's default) for anything else. .Index counts from
// 0, so IDs numbered from 1 come out shifted by one; the report says so.
func idTemplate(ids []string) (tmpl string, note string) {
	if len(ids) < 2 {
		return "", ""
	}
	prefix := ""
	width := -1
	minN, maxN := int64(-1), int64(-1)
	for i, id := range ids {
		j := len(id)
		for j > 0 && id[j-1] >= '0' && id[j-1] <= '9' {
			j--
		}
		if j == len(id) {
			return "", ""
		}
		n, err := strconv.ParseInt(id[j:], 10, 64)
		if err != nil {
			return "", ""
		}
		w := len(id) - j
		if i == 0 {
			prefix, width = id[:j], w
			minN, maxN = n, n
			continue
		}
		if id[:j] != prefix {
			return "", ""
		}
		if w != width {
			width = 0 // mixed widths: no zero padding
		}
		minN, maxN = min(minN, n), max(maxN, n)
	}
	format := "%d"
	if width > 1 {
		format = fmt.Sprintf("%%0%dd", width)
	}
	tmpl = fmt.Sprintf(`%s{{printf "%s" .Index}}`, templateLiteral(prefix), format)
	if minN != 0 {
		note = fmt.Sprintf("observed IDs are numbered %d..%d; simulated ones count from 0", minN, maxN)
	}
	return tmpl, note
}
