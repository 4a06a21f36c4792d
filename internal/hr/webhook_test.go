package hr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/signature"
)

// fakeIntake records what it receives and answers with a fixed receipt or error.
type fakeIntake struct {
	mu      sync.Mutex
	got     []Event
	receipt Receipt
	err     error
}

func (f *fakeIntake) Receive(_ context.Context, e Event) (Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, e)
	return f.receipt, f.err
}

func (f *fakeIntake) events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.got...)
}

// syncBuffer lets parallel handlers log into one buffer.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const webhookSecret = "whsec_9f2c1e-do-not-log"

var webhookNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const goodBody = `{"event_id":"hris-1","type":"termination","worker_id":"W1","email":"ann@acme.test","name":"Ann",` +
	`"manager_email":"bo@acme.test","effective_at":"2026-11-30T17:00:00-08:00","reason":"resigned","involuntary":false}`

func TestWebhook(t *testing.T) {
	t.Parallel()
	signed := func(body string) http.Header {
		h := http.Header{}
		h.Set(signature.Header, signature.Sign([]byte(webhookSecret), webhookNow, []byte(body)))
		return h
	}
	big := `{"reason":"` + strings.Repeat("x", MaxWebhookBody) + `"}`

	tests := []struct {
		name       string
		method     string
		header     http.Header
		body       string
		intakeErr  error
		wantStatus int
		wantInBody []string
		wantStored bool
	}{
		{name: "accepted", header: signed(goodBody), body: goodBody, wantStatus: 202,
			wantInBody: []string{`"outcome":"scheduled"`, `"case_id":7`}, wantStored: true},
		{name: "rescission needs no effective_at", header: signed(`{"event_id":"r1","type":"rescission","worker_id":"W1"}`),
			body: `{"event_id":"r1","type":"rescission","worker_id":"W1"}`, wantStatus: 202, wantStored: true},
		{name: "unsigned", body: goodBody, wantStatus: 401, wantInBody: []string{"missing"}},
		{name: "signed by someone else", header: http.Header{signature.Header: {signature.Sign([]byte("guess"), webhookNow, []byte(goodBody))}},
			body: goodBody, wantStatus: 401, wantInBody: []string{"does not match"}},
		{name: "body changed after signing", header: signed(goodBody), body: strings.Replace(goodBody, "W1", "W2", 1),
			wantStatus: 401, wantInBody: []string{"does not match"}},
		{name: "stale signature", header: http.Header{signature.Header: {signature.Sign([]byte(webhookSecret), webhookNow.Add(-time.Hour), []byte(goodBody))}},
			body: goodBody, wantStatus: 401, wantInBody: []string{"outside the allowed window"}},
		{name: "malformed signature", header: http.Header{signature.Header: {"sha256=deadbeef"}}, body: goodBody,
			wantStatus: 401, wantInBody: []string{"malformed"}},
		{name: "not JSON", header: signed(`{"event_id":`), body: `{"event_id":`, wantStatus: 400, wantInBody: []string{"not a JSON object"}},
		{name: "JSON but not an object", header: signed(`[1]`), body: `[1]`, wantStatus: 400, wantInBody: []string{"not a JSON object"}},
		{name: "trailing data", header: signed(goodBody + `{}`), body: goodBody + `{}`, wantStatus: 400, wantInBody: []string{"data after"}},
		{name: "every reason named",
			header:     signed(`{"event_id":"e","type":"termination","worker_id":7,"email":"nope","effective_at":"30/11/2026","involuntary":"yes","badge":"x"}`),
			body:       `{"event_id":"e","type":"termination","worker_id":7,"email":"nope","effective_at":"30/11/2026","involuntary":"yes","badge":"x"}`,
			wantStatus: 400, wantInBody: []string{`unknown field \"badge\"`, "worker_id must be a string", "involuntary must be true or false",
				`effective_at \"30/11/2026\" is not an RFC 3339 time`, `email \"nope\" is not an address`}},
		{name: "missing fields", header: signed(`{"type":"dismissal"}`), body: `{"type":"dismissal"}`, wantStatus: 400,
			wantInBody: []string{"event_id is required", `type must be`, "worker_id or email is required"}},
		{name: "termination without effective_at", header: signed(`{"event_id":"e","type":"termination","email":"a@b.test"}`),
			body: `{"event_id":"e","type":"termination","email":"a@b.test"}`, wantStatus: 400, wantInBody: []string{"effective_at is required"}},
		{name: "handles carried", header: signed(`{"event_id":"h1","type":"termination","email":"a@b.test","effective_at":"2026-11-30T17:00:00Z","handles":{"github":"ann-codes"}}`),
			body: `{"event_id":"h1","type":"termination","email":"a@b.test","effective_at":"2026-11-30T17:00:00Z","handles":{"github":"ann-codes"}}`, wantStatus: 202, wantStored: true},
		{name: "handles must be identifiers", header: signed(`{"event_id":"h2","type":"termination","email":"a@b.test","effective_at":"2026-11-30T17:00:00Z","handles":{"GitHub":"ann codes","aws":7}}`),
			body: `{"event_id":"h2","type":"termination","email":"a@b.test","effective_at":"2026-11-30T17:00:00Z","handles":{"GitHub":"ann codes","aws":7}}`, wantStatus: 400,
			wantInBody: []string{"handles must be an object of strings"}},
		{name: "handle values are checked", header: signed(`{"event_id":"h3","type":"termination","email":"a@b.test","effective_at":"2026-11-30T17:00:00Z","handles":{"GitHub":"ann codes"}}`),
			body: `{"event_id":"h3","type":"termination","email":"a@b.test","effective_at":"2026-11-30T17:00:00Z","handles":{"GitHub":"ann codes"}}`, wantStatus: 400,
			wantInBody: []string{`handle system \"GitHub\" must be a system name`, "handle for GitHub must be one identifier"}},
		{name: "too large", header: signed(big), body: big, wantStatus: 413},
		{name: "conflict", header: signed(goodBody), body: goodBody, intakeErr: ErrConflict, wantStatus: 409, wantInBody: []string{"hris-1"}, wantStored: true},
		{name: "wrapped conflict", header: signed(goodBody), body: goodBody, intakeErr: errors.Join(errors.New("store"), ErrConflict), wantStatus: 409, wantStored: true},
		{name: "store failure asks for a retry", header: signed(goodBody), body: goodBody, intakeErr: errors.New("database is locked"),
			wantStatus: 500, wantInBody: []string{"retry"}, wantStored: true},
		{name: "wrong method", method: http.MethodGet, header: signed(""), wantStatus: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			intake := &fakeIntake{receipt: Receipt{CaseID: 7, Outcome: Scheduled}, err: tc.intakeErr}
			h := &Webhook{Intake: intake, Secrets: [][]byte{[]byte("retired-secret"), []byte(webhookSecret)},
				Log: slog.New(slog.NewJSONHandler(&logs, nil)), Now: func() time.Time { return webhookNow }}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/v1/hr/events", strings.NewReader(tc.body))
			req.RemoteAddr = "203.0.113.9:4711"
			for k, v := range tc.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("body is not JSON: %s", rec.Body)
			}
			for _, want := range tc.wantInBody {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body %s does not contain %s", rec.Body, want)
				}
			}
			if stored := len(intake.events()) > 0; stored != tc.wantStored {
				t.Errorf("intake called = %v, want %v", stored, tc.wantStored)
			}
			if tc.wantStatus >= 400 && !strings.Contains(logs.String(), "203.0.113.9") {
				t.Errorf("rejection not logged with the remote address: %s", logs.String())
			}
			if tc.wantStatus == 405 && rec.Header().Get("Allow") != http.MethodPost {
				t.Errorf("405 without Allow: POST")
			}
			sigValue := tc.header.Get(signature.Header)
			for _, secret := range []string{webhookSecret, "retired-secret", sigValue} {
				if secret != "" && strings.Contains(logs.String(), secret) {
					t.Fatalf("log contains a secret or the signature header: %s", logs.String())
				}
				if secret != "" && strings.Contains(rec.Body.String(), secret) {
					t.Fatalf("answer contains a secret or the signature header: %s", rec.Body)
				}
			}
		})
	}
}

func TestWebhookStoresTheEventAsSent(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{receipt: Receipt{CaseID: 1, Outcome: Opened}}
	h := NewWebhook(intake, [][]byte{[]byte(webhookSecret)}, nil)
	req := httptest.NewRequest(http.MethodPost, "/v1/hr/events", strings.NewReader(goodBody))
	// The real clock: NewWebhook has no test clock, so sign with the current time.
	req.Header.Set(signature.Header, signature.Sign([]byte(webhookSecret), time.Now(), []byte(goodBody)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
	}
	var got Receipt
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got != (Receipt{CaseID: 1, Outcome: Opened}) {
		t.Fatalf("receipt = %+v (%v)", got, err)
	}
	evs := intake.events()
	if len(evs) != 1 {
		t.Fatalf("intake got %d events", len(evs))
	}
	want := Event{ID: "hris-1", Source: "webhook", Actor: "webhook", Type: Termination, WorkerID: "W1", Email: "ann@acme.test",
		Name: "Ann", Manager: "bo@acme.test", EffectiveAt: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), Reason: "resigned"}
	got0 := evs[0]
	if !got0.EffectiveAt.Equal(want.EffectiveAt) {
		t.Errorf("EffectiveAt = %s, want %s", got0.EffectiveAt, want.EffectiveAt)
	}
	got0.EffectiveAt = want.EffectiveAt
	if !reflect.DeepEqual(got0, want) {
		t.Errorf("event = %+v\nwant    %+v", got0, want)
	}
}

// TestWebhookNoSecretConfigured protects against a deployment with an empty secret accepting
// anything, and against telling the sender about the server's misconfiguration.
func TestWebhookNoSecretConfigured(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	intake := &fakeIntake{}
	h := &Webhook{Intake: intake, Secrets: [][]byte{nil}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	req := httptest.NewRequest(http.MethodPost, "/v1/hr/events", strings.NewReader(goodBody))
	req.Header.Set(signature.Header, signature.Sign(nil, time.Now(), []byte(goodBody)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || len(intake.events()) != 0 {
		t.Fatalf("status = %d, stored %d", rec.Code, len(intake.events()))
	}
	if strings.Contains(rec.Body.String(), "configured") {
		t.Errorf("answer reveals the server's configuration: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "no webhook secret is configured") {
		t.Errorf("log does not say why: %s", logs.String())
	}
}

// TestWebhookTooLargeWithoutLength covers a chunked body, which has no Content-Length to
// refuse up front: the handler must stop reading after the limit.
func TestWebhookTooLargeWithoutLength(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{}
	h := &Webhook{Intake: intake, Secrets: [][]byte{[]byte(webhookSecret)}, Now: func() time.Time { return webhookNow }}
	body := &countingReader{r: strings.NewReader(strings.Repeat("x", 3*MaxWebhookBody))}
	req := httptest.NewRequest(http.MethodPost, "/v1/hr/events", body)
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
	if body.n > MaxWebhookBody+1 {
		t.Errorf("read %d bytes, more than the limit + 1", body.n)
	}
	if len(intake.events()) != 0 {
		t.Errorf("intake called")
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
