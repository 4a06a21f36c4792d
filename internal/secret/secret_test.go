package secret

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

const token = "00aBcD-very-secret-token-9Zz"

func TestValueNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	v := New(token)
	type holder struct {
		Name  string
		Token Value
		Ptr   *Value
	}
	h := holder{Name: "okta", Token: v, Ptr: &v}
	jsonOut, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	xmlOut, err := xml.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("m", "token", v, "holder", h)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("m", "token", v, "holder", h)

	renderings := map[string]string{
		"json":   string(jsonOut),
		"xml":    string(xmlOut),
		"slog":   logBuf.String(),
		"String": v.String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3s"} {
		renderings["fmt "+verb] = fmt.Sprintf(verb, v)
		renderings["fmt struct "+verb] = fmt.Sprintf(verb, h)
	}
	for name, out := range renderings {
		if strings.Contains(out, token) || strings.Contains(out, "very-secret") {
			t.Errorf("%s rendering shows the secret: %s", name, out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("%s rendering does not say %s: %s", name, Redacted, out)
		}
	}
	if v.Reveal() != token {
		t.Errorf("Reveal = %q, want the secret", v.Reveal())
	}
	if v.IsZero() || !(Value{}).IsZero() || !New("").IsZero() {
		t.Error("IsZero must be true exactly for the empty secret")
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{"nothing registered", nil, "token " + token, "token " + token},
		{"every occurrence", []string{token}, token + " and " + token, "[redacted] and [redacted]"},
		{"short values are ignored so common words survive", []string{"admin", "2024"}, "admin in 2024", "admin in 2024"},
		{"exactly MinLength is redacted", []string{"abcdef"}, "xabcdefx", "x[redacted]x"},
		{"longer secret containing a shorter one is redacted whole", []string{"secret-one", "secret-one-and-more"}, "a secret-one-and-more b secret-one", "a [redacted] b [redacted]"},
		{"query-escaped form", []string{"pa ss/w&rd=1"}, "https://x/?p=pa+ss%2Fw%26rd%3D1", "https://x/?p=[redacted]"},
		{"path-escaped form", []string{"pa ss/w&rd=1"}, "/v1/pa%20ss%2Fw&rd=1", "/v1/[redacted]"},
		{"JSON-escaped form", []string{`pa"ss<w>rd`}, `{"p":"pa\"ss\u003cw\u003erd"}`, `{"p":"[redacted]"}`},
		{"JSON form without HTML escaping", []string{`pa"ss<w>rd`}, `{"p":"pa\"ss<w>rd"}`, `{"p":"[redacted]"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Redactor
			r.Add(tt.values...)
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := string(r.RedactBytes([]byte(tt.in))); got != tt.want {
				t.Errorf("RedactBytes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactBytesLeavesInputAlone(t *testing.T) {
	t.Parallel()
	var r Redactor
	r.Add(token)
	in := []byte("x " + token)
	out := r.RedactBytes(in)
	if string(in) != "x "+token {
		t.Errorf("input modified: %q", in)
	}
	if string(out) != "x [redacted]" {
		t.Errorf("RedactBytes = %q", out)
	}
	clean := []byte("nothing here")
	if got := r.RedactBytes(clean); &got[0] != &clean[0] {
		t.Error("RedactBytes copied a slice that needed no change")
	}
	var nilRedactor *Redactor
	if got := nilRedactor.Redact(token); got != token {
		t.Errorf("nil Redactor changed text: %q", got)
	}
}

// TestRedactorConcurrentUse protects the promise that Add may run while other goroutines
// redact (the race detector checks it).
func TestRedactorConcurrentUse(t *testing.T) {
	t.Parallel()
	var r Redactor
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r.Add(fmt.Sprintf("secret-number-%d", i))
		}()
		go func() {
			defer wg.Done()
			_ = r.Redact("secret-number-1 secret-number-2")
		}()
	}
	wg.Wait()
	if got := r.Redact("secret-number-3"); got != Redacted {
		t.Errorf("after concurrent Adds, Redact = %q", got)
	}
}

type tokenError struct{ tok string }

func (e tokenError) Error() string { return "request failed with token " + e.tok }

type logValuer struct{}

func (logValuer) LogValue() slog.Value { return slog.StringValue("resolved " + token) }

type config struct {
	URL   string
	Token string
}

func TestHandlerRedactsEverywhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		// keep is text that must still be in the output, so the test sees the record was logged.
		keep string
	}{
		{"message", func(l *slog.Logger) { l.Info("calling with " + token) }, "calling with"},
		{"string attr", func(l *slog.Logger) { l.Info("m", "header", "SSWS "+token) }, "SSWS"},
		{"error attr", func(l *slog.Logger) { l.Info("m", "err", tokenError{token}) }, "request failed"},
		{"wrapped error attr", func(l *slog.Logger) { l.Info("m", "err", fmt.Errorf("okta: %w", tokenError{token})) }, "okta: request failed"},
		{"group attr", func(l *slog.Logger) { l.Info("m", slog.Group("req", "auth", token, "path", "/api/v1/users")) }, "/api/v1/users"},
		{"nested group attr", func(l *slog.Logger) {
			l.Info("m", slog.Group("outer", slog.Group("inner", slog.String("auth", token), slog.Int("n", 7))))
		}, "7"},
		{"WithAttrs", func(l *slog.Logger) { l.With("auth", token).Info("with attrs") }, "with attrs"},
		{"WithGroup then attr", func(l *slog.Logger) { l.WithGroup("g").Info("m", "auth", token) }, "auth"},
		{"LogValuer", func(l *slog.Logger) { l.Info("m", "v", logValuer{}) }, "resolved"},
		{"LogValuer in group", func(l *slog.Logger) { l.Info("m", slog.Group("g", "v", logValuer{})) }, "resolved"},
		{"bytes", func(l *slog.Logger) { l.Info("m", "body", []byte(`{"token":"`+token+`"}`)) }, "body"},
		{"struct", func(l *slog.Logger) { l.Info("m", "cfg", config{URL: "https://x", Token: token}) }, "https://x"},
		{"map", func(l *slog.Logger) { l.Info("m", "headers", map[string]string{"Authorization": token}) }, "headers"},
		{"attr key", func(l *slog.Logger) { l.Info("m", token, 1) }, "m"},
	}
	newInner := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for _, tt := range tests {
		for kind, mk := range newInner {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				var r Redactor
				r.Add(token)
				var buf bytes.Buffer
				tt.log(slog.New(NewHandler(mk(&buf), &r)))
				out := buf.String()
				if strings.Contains(out, token) || strings.Contains(out, "very-secret") {
					t.Errorf("secret reached the output: %s", out)
				}
				if !strings.Contains(out, tt.keep) {
					t.Errorf("output lost %q: %s", tt.keep, out)
				}
				if !strings.Contains(out, Redacted) {
					t.Errorf("output does not show %s: %s", Redacted, out)
				}
			})
		}
	}
}

func TestHandlerKeepsCleanValues(t *testing.T) {
	t.Parallel()
	var r Redactor
	r.Add(token)
	var buf bytes.Buffer
	l := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), &r))
	l.Info("clean", "n", 3, "cfg", config{URL: "https://x", Token: "none"}, "err", tokenError{"none"})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	cfg, ok := got["cfg"].(map[string]any)
	if !ok || cfg["URL"] != "https://x" {
		t.Errorf("a value without secrets lost its structure: %v", got["cfg"])
	}
	if got["n"] != float64(3) || got["err"] != "request failed with token none" {
		t.Errorf("clean attrs changed: %v", got)
	}
}

func TestHandlerEnabledFollowsInner(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := NewHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), &Redactor{})
	l := slog.New(h)
	l.Info("dropped")
	l.Warn("kept")
	if strings.Contains(buf.String(), "dropped") || !strings.Contains(buf.String(), "kept") {
		t.Errorf("level filtering not honoured: %s", buf.String())
	}
}
