//go:build ignore

// gen_schema writes schema.json from the Go types: go generate ./engine/sim/scenario
package main

import (
	"fmt"
	"os"

	"github.com/iotstudio/iotstudio/engine/sim/scenario/internal/schemagen"
)

func main() {
	b, err := schemagen.Generate()
	if err == nil {
		err = os.WriteFile("schema.json", b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
