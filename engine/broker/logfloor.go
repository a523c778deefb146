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

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{Handler: h.Handler.WithAttrs(a), min: h.min}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{Handler: h.Handler.WithGroup(n), min: h.min}
}
