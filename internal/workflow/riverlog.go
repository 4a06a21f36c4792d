package workflow

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
)

// riverLog is the handler River logs through. While the engine stops, River's background
// services see their context cancelled and log that as an error; an orderly stop is not a
// failure, so those records are lowered to debug instead of alarming whoever reads the log.
type riverLog struct {
	slog.Handler
	stopping *atomic.Bool
}

func (h riverLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && h.stopping.Load() && cancelled(r) {
		r.Level = slog.LevelDebug
		if !h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h riverLog) WithAttrs(as []slog.Attr) slog.Handler {
	return riverLog{h.Handler.WithAttrs(as), h.stopping}
}

func (h riverLog) WithGroup(name string) slog.Handler {
	return riverLog{h.Handler.WithGroup(name), h.stopping}
}

// cancelled reports whether the record carries a context-cancellation error, as an error
// value or, as River mostly logs it, as the error's text.
func cancelled(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		switch v := a.Value.Any().(type) {
		case error:
			found = errors.Is(v, context.Canceled)
		case string:
			found = a.Key == "error" && strings.HasSuffix(v, context.Canceled.Error())
		}
		return !found
	})
	return found
}
