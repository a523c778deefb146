package broker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestMochiLoggerKeepsOnlyUsefulRecords(t *testing.T) {
	var out bytes.Buffer
	log := mochiLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.Info("added hook")                                  // start-up chatter
	log.Warn("", "error", "read connection: EOF")           // a port probe
	log.Warn("client store quota reached", "client", "sub") // worth knowing
	log.With("listener", "mqtt").Warn("", "error", "use of closed network connection")
	got := out.String()
	if strings.Contains(got, "added hook") || strings.Contains(got, "EOF") || strings.Contains(got, "closed network") {
		t.Errorf("noise got through:\n%s", got)
	}
	if !strings.Contains(got, "client store quota reached") || !strings.Contains(got, "component=mochi") {
		t.Errorf("a real warning was lost:\n%s", got)
	}
}
