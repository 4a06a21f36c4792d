package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/hr"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/sqlite"
	"github.com/offboard-dev/offboard/internal/web"
)

const apiToken = "api-token-for-tests-5d1e"

type fakeIntake struct {
	got []hr.Event
	err error
}

func (f *fakeIntake) Receive(_ context.Context, e hr.Event) (hr.Receipt, error) {
	if f.err != nil {
		return hr.Receipt{}, f.err
	}
	f.got = append(f.got, e)
	return hr.Receipt{CaseID: 7, Outcome: hr.Opened}, nil
}

func newServer(t *testing.T, intake hr.Intake) (*httptest.Server, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	err = st.InTx(context.Background(), func(tx store.Tx) error {
		c := &store.Case{Person: connector.Person{Email: "ann@example.com", Name: "Ann"}, State: store.CaseRunning,
			Source: "test", EventID: "e1", EffectiveAt: time.Now()}
		if err := tx.CreateCase(context.Background(), c); err != nil {
			return err
		}
		return tx.InsertSteps(context.Background(), []*store.Step{{CaseID: c.ID, Seq: 1, State: store.StepQueued,
			Action: connector.Action{System: "okta", Kind: "deactivate", Target: "00u1", Detail: "Deactivate"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&web.Server{Store: st, Intake: intake, APIToken: apiToken}).Handler())
	t.Cleanup(srv.Close)
	return srv, st
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{}
	srv, _ := newServer(t, intake)
	tests := []struct {
		name, method, path, token, body string
		status                          int
		contains                        string
	}{
		{"health needs no token", "GET", "/healthz", "", "", 200, `"status": "ok"`},
		{"cases need the token", "GET", "/v1/cases", "", "", 401, "API token"},
		{"a wrong token is refused", "GET", "/v1/cases", "wrong-token-value", "", 401, "API token"},
		{"cases are listed", "GET", "/v1/cases", apiToken, "", 200, "ann@example.com"},
		{"filter by state", "GET", "/v1/cases?state=completed", apiToken, "", 200, `"cases": []`},
		{"bad limit", "GET", "/v1/cases?limit=0", apiToken, "", 400, "limit"},
		{"one case with its steps", "GET", "/v1/cases/1", apiToken, "", 200, `"deactivate"`},
		{"missing case", "GET", "/v1/cases/99", apiToken, "", 404, "no case 99"},
		{"bad case id", "GET", "/v1/cases/abc", apiToken, "", 400, "positive number"},
		{"open a case", "POST", "/v1/cases", apiToken, `{"email":"bo@example.com","name":"Bo"}`, 202, `"opened"`},
		{"unknown field", "POST", "/v1/cases", apiToken, `{"emial":"bo@example.com"}`, 400, "unknown field"},
		{"nobody named", "POST", "/v1/cases", apiToken, `{"name":"Bo"}`, 400, "worker_id or email"},
		{"webhook not configured", "POST", "/v1/hr/events", "", `{}`, 404, "not configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, tc.method, srv.URL+tc.path, tc.token, tc.body)
			if status != tc.status || !strings.Contains(body, tc.contains) {
				t.Fatalf("%s %s: %d %s; want %d containing %q", tc.method, tc.path, status, body, tc.status, tc.contains)
			}
			if strings.Contains(body, apiToken) {
				t.Fatal("the API token appears in a response")
			}
		})
	}
}

func TestOpenCaseThroughTheAPIReachesTheIntake(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{}
	srv, _ := newServer(t, intake)
	status, body := call(t, "POST", srv.URL+"/v1/cases", apiToken, `{"email":"cy@example.com","involuntary":true,"reason":"policy","handles":{"github":"cy-dev"}}`)
	if status != 202 {
		t.Fatalf("%d %s", status, body)
	}
	var r hr.Receipt
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.CaseID != 7 {
		t.Fatalf("receipt %s: %v", body, err)
	}
	if len(intake.got) != 1 || intake.got[0].Source != "api" || !intake.got[0].Involuntary || intake.got[0].Type != hr.Termination || intake.got[0].Handles["github"] != "cy-dev" {
		t.Fatalf("intake got %+v", intake.got)
	}
}

func TestAPIReportsConflictsAndStoreFailures(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, &fakeIntake{err: hr.ErrConflict})
	if status, body := call(t, "POST", srv.URL+"/v1/cases", apiToken, `{"email":"d@example.com","event_id":"x"}`); status != 409 {
		t.Fatalf("conflict: %d %s", status, body)
	}
	srv2, _ := newServer(t, &fakeIntake{err: errors.New("database is locked")})
	status, body := call(t, "POST", srv2.URL+"/v1/cases", apiToken, `{"email":"d@example.com"}`)
	if status != 500 || strings.Contains(body, "locked") {
		t.Fatalf("store failure: %d %s (internal detail must not leak)", status, body)
	}
}
