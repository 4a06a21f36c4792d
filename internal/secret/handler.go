package secret

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// NewHandler returns a slog.Handler that removes r's secrets from every record before inner
// sees it: the message, every string attribute, attributes inside groups (however deep), the
// text of error values, values that resolve through slog.LogValuer, and any other value whose
// printed or JSON form would carry a secret. Attributes given to WithAttrs are scrubbed the
// same way. A value that carries no secret is passed on unchanged, keeping its type.
func NewHandler(inner slog.Handler, r *Redactor) slog.Handler {
	return &handler{inner: inner, r: r}
}

type handler struct {
	inner slog.Handler
	r     *Redactor
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &handler{inner: h.inner.WithAttrs(clean), r: h.r}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{inner: h.inner.WithGroup(h.r.Redact(name)), r: h.r}
}

// attr returns a with secrets removed from its key and value.
func (h *handler) attr(a slog.Attr) slog.Attr {
	a.Key = h.r.Redact(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(h.r.Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		a.Value = slog.GroupValue(clean...)
	case slog.KindAny:
		a.Value = h.any(v)
	default:
		a.Value = v
	}
	return a
}

// any scrubs a value of arbitrary type. Handlers print such values in one of three ways (an
// error's text, fmt's %+v, or JSON), so each is checked; when any of them carries a secret,
// the value is replaced by its redacted text.
func (h *handler) any(v slog.Value) slog.Value {
	x := v.Any()
	var texts []string
	switch t := x.(type) {
	case error:
		texts = append(texts, t.Error())
	case []byte:
		texts = append(texts, string(t))
	default:
		texts = append(texts, fmt.Sprintf("%+v", x))
		if b, err := json.Marshal(x); err == nil {
			texts = append(texts, string(b))
		}
	}
	for _, s := range texts {
		if red := h.r.Redact(s); red != s {
			return slog.StringValue(h.r.Redact(texts[0]))
		}
	}
	return v
}
