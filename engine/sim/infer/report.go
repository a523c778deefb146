package infer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lines is the report in words, one line each, for the CLI to print as
// YAML comments ("# " prefixed) above the proposed scenario.
func (r Report) Lines() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	add("inferred from %s on %s, %s .. %s", count(r.Messages, "message"), count(r.Topics, "topic"),
		r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	add("devices: %d, IDs from %s%s", len(r.Devices), r.IDSource, sample(r.Devices))
	if r.ClientID != "" {
		add("client IDs: %s", r.ClientID)
	}
	for _, s := range r.Streams {
		timing := "every " + s.Every.String()
		if s.Jitter > 0 {
			timing += " ± " + s.Jitter.String()
		}
		add("stream %s: %s, %s from %s, %s, qos %d, retain %v, %s payload",
			s.Name, s.Topic, count(s.Messages, "message"), count(s.Devices, "device"), timing, s.QoS, s.Retain, s.Payload)
		for _, n := range s.Notes {
			add("  %s", n)
		}
		for _, f := range s.Fields {
			add("  %s: %s → %s%s", f.Path, f.observed(), f.Kind, notes(f.Notes))
		}
	}
	for _, s := range r.Skipped {
		add("skipped %s", s)
	}
	for _, n := range r.Notes {
		add("note: %s", n)
	}
	return out
}

// observed says what a field's values were.
func (f FieldReport) observed() string {
	switch {
	case f.Min != nil && f.Max != nil && len(f.Values) == 0:
		s := fmt.Sprintf("%s %s..%s", f.Type, num(*f.Min), num(*f.Max))
		switch {
		case f.Decimals == 1:
			s += " (1 decimal)"
		case f.Decimals > 1:
			s += fmt.Sprintf(" (%d decimals)", f.Decimals)
		}
		return s
	case len(f.Values) > 0:
		var parts []string
		total := 0.0
		for _, w := range f.Weights {
			total += w
		}
		for i, v := range f.Values {
			if len(parts) == 5 {
				parts = append(parts, fmt.Sprintf("… %d more", len(f.Values)-5))
				break
			}
			p := fmt.Sprintf("%v", v)
			switch x := v.(type) {
			case string:
				p = strconv.Quote(x)
			case nil:
				p = "null"
			}
			if i < len(f.Weights) && total > 0 {
				p += fmt.Sprintf(" %.0f%%", 100*f.Weights[i]/total)
			}
			parts = append(parts, p)
		}
		return fmt.Sprintf("%s {%s}", f.Type, strings.Join(parts, ", "))
	}
	return f.Type
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func notes(n []string) string {
	if len(n) == 0 {
		return ""
	}
	return " (" + strings.Join(n, "; ") + ")"
}

// sample lists the first and last few IDs.
func sample(ids []string) string {
	switch {
	case len(ids) == 0:
		return ""
	case len(ids) <= 4:
		return ": " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf(": %s, %s, … %s", ids[0], ids[1], ids[len(ids)-1])
}

// Field returns what was observed of a stream's payload field, by its
// path ("meta.rssi"): what a test compares values generated from the
// inferred profile with.
func (r Report) Field(stream, path string) (FieldReport, bool) {
	for _, s := range r.Streams {
		if s.Name != stream {
			continue
		}
		for _, f := range s.Fields {
			if f.Path == path {
				return f, true
			}
		}
	}
	return FieldReport{}, false
}
