package app

import (
	"fmt"
	"path/filepath"

	"github.com/iotstudio/iotstudio/engine/devca"
)

const caUsage = `usage: iotstudio ca export --out FILE [--data DIR]
ca export writes the development CA's certificate (PEM), for devices to trust the broker's --dev-ca TLS.`

func runCA(args []string, e env) error {
	if len(args) == 0 || args[0] != "export" {
		return usagef("%s", caUsage)
	}
	fs := newFlagSet("ca export", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	out := fs.String("out", "", "`FILE` to write the CA certificate (PEM) to")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return usagef("ca export: --out FILE is required")
	}
	dir, err := dataDir(*data)
	if err != nil {
		return err
	}
	ca, err := devca.Ensure(filepath.Join(dir, "devca"), devca.DefaultHosts())
	if err != nil {
		return err
	}
	if err := ca.ExportCA(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "development CA written to %s; install it as a trusted CA on your devices\n", *out)
	return nil
}
