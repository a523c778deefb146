package bridge

import (
	"bytes"
	"os"
	"testing"
)

// The embedded example and the one in testdata must not drift apart.
func TestEmbeddedExampleIsTestdatas(t *testing.T) {
	want, err := os.ReadFile("../../testdata/bridge/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Example, want) {
		t.Fatal("engine/bridge/example.yaml differs from testdata/bridge/example.yaml: copy one over the other")
	}
}
