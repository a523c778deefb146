package broker

import (
	"context"
	"log/slog"
)

// levelFloor drops records below min whatever the wrapped handler accepts.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Handle drops mochi's message-less warnings: its listeners log every
// connection that ends with an error (a port probe, a client killed, the
// broker stopping) as Warn with an empty message, which is noise to users.
// What it keeps is scrubbed of packet contents and bounded (logscrub.go).
func (h levelFloor) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "" && r.Level < slog.LevelError {
		return nil
	}
	return h.Handler.Handle(ctx, scrubRecord(r))
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{Handler: h.Handler.WithAttrs(scrubAttrs(a)), min: h.min}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{Handler: h.Handler.WithGroup(n), min: h.min}
}
