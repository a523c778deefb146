package app

import (
	"os"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/device"
)

// The README's example scenario is the one in testdata, and it is valid:
// a reader who copies it gets a file that runs.
func TestReadmeScenarioIsValidAndCurrent(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Virtual devices")
	if !ok {
		t.Fatal("README has no Virtual devices section")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("the Virtual devices section has no yaml example")
	}
	block, _, _ = strings.Cut(block, "```")
	file, err := os.ReadFile("../testdata/devices/greenhouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), block) {
		t.Fatal("README's example differs from testdata/devices/greenhouse.yaml; copy the file into the README")
	}
	if _, err := builtin.Compile("README example", []byte(block), device.Options{Protocol: 5}); err != nil {
		t.Fatalf("README's example is not valid:\n%v", err)
	}
}
