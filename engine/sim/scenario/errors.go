package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a scenario file, at a place in it.
type Error struct {
	Path string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Pos.Line, e.Pos.Column, e.Msg)
}

// Errors are all the problems of a file, sorted by position, so an editor
// can mark them all and a person fixes them in one pass.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Column, b.Pos.Column), strings.Compare(a.Msg, b.Msg))
	})
}

// suggest returns "; did you mean `x`?" for the closest of words to word,
// or "; expected one of ..." when none is close: either way the person
// learns what is allowed without opening the docs.
func suggest(word string, words []string) string {
	best, bestD := "", -1
	for _, w := range words {
		d := editDistance(strings.ToLower(word), w)
		if bestD < 0 || d < bestD {
			best, bestD = w, d
		}
	}
	if best != "" && (bestD <= 2 || bestD <= len(word)/3 || strings.HasPrefix(best, strings.ToLower(word))) {
		return fmt.Sprintf("; did you mean `%s`?", best)
	}
	return "; expected one of " + strings.Join(words, ", ")
}

// editDistance is the Levenshtein distance between a and b, in bytes
// (keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// AsErrors returns the positioned problems err holds (Parse returns
// *Errors, the device compiler Errors), for an editor that marks them.
func AsErrors(err error) (Errors, bool) {
	var ptr *Errors
	if errors.As(err, &ptr) && ptr != nil {
		return *ptr, true
	}
	var es Errors
	if errors.As(err, &es) {
		return es, true
	}
	var one *Error
	if errors.As(err, &one) {
		return Errors{one}, true
	}
	return nil, false
}
