package scenario

// STAND-IN: the contract's Error and Errors (notes/sim-contract.md), so
// that engine/sim/device builds on its own branch. The parser's branch
// defines them for real; delete this file at merge.

import (
	"fmt"
	"strings"
)

// Error is one problem in a scenario file, at a position.
type Error struct {
	Path string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Pos.Line, e.Pos.Column, e.Msg)
}

// Errors are all the problems found in a file, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}
