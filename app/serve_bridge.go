package app

import (
	"flag"
	"fmt"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/engine/client"
)

// bridgeFlag registers serve's --bridge (issue 16).
func bridgeFlag(fs *flag.FlagSet) *string {
	return fs.String("bridge", "", "bridge the broker to remote brokers as the YAML `FILE` says (saved connections by name; see testdata/bridge/example.yaml)")
}

// planBridges reads and checks the bridges file against the saved
// connections in dataDir; every problem is a usage error as file:line.
func planBridges(path, dataDir string) ([]bridge.Planned, error) {
	if path == "" {
		return nil, nil
	}
	saved, err := client.NewStore(dataDir).Load()
	if err != nil {
		return nil, usageError{fmt.Errorf("--bridge %s: read the saved connections: %w", path, err)}
	}
	plans, err := bridge.LoadFile(path, saved)
	if err != nil {
		return nil, usageError{err}
	}
	return plans, nil
}
