package workdaysim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReport(t *testing.T) {
	t.Parallel()
	s := New(Options{Username: "isu", Password: "pw", RetryAfter: 250 * time.Millisecond})
	s.AddRow(map[string]any{"Employee_ID": "1001", "Termination_Date": "2026-11-30-08:00"})
	path := s.ReportPath()
	if path != "/ccx/service/customreport2/acme/ISU_offboard/Terminations" {
		t.Fatalf("ReportPath = %s", path)
	}
	tests := []struct {
		name       string
		method     string
		target     string
		user, pass string
		throttle   bool
		wantStatus int
		wantBody   string
		wantHeader [2]string
	}{
		{name: "report as JSON", target: path + "?format=json&Effective_From=2026-11-01-08:00", user: "isu", pass: "pw",
			wantStatus: 200, wantBody: `{"Report_Entry":[{"Employee_ID":"1001","Termination_Date":"2026-11-30-08:00"}]}`},
		{name: "no credentials", target: path + "?format=json", wantStatus: 401, wantHeader: [2]string{"WWW-Authenticate", `Basic realm="acme"`}},
		{name: "wrong password", target: path + "?format=json", user: "isu", pass: "nope", wantStatus: 401},
		{name: "no format", target: path, user: "isu", pass: "pw", wantStatus: 400, wantBody: "format must be json"},
		{name: "other format", target: path + "?format=csv", user: "isu", pass: "pw", wantStatus: 400, wantBody: `"csv"`},
		{name: "another report", target: "/ccx/service/customreport2/acme/ISU_offboard/Salaries?format=json", user: "isu", pass: "pw", wantStatus: 404},
		{name: "not implemented", target: "/ccx/service/Human_Resources/v42.0", user: "isu", pass: "pw", wantStatus: 501},
		{name: "write not implemented", method: http.MethodPost, target: path + "?format=json", user: "isu", pass: "pw", wantStatus: 501},
		{name: "throttled", target: path + "?format=json", user: "isu", pass: "pw", throttle: true, wantStatus: 429,
			wantHeader: [2]string{"Retry-After", "0.25"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the throttle case arms a fault shared by the server.
			if tc.throttle {
				s.Faults.ThrottleNext(1)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tc.target, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.wantStatus, body)
			}
			if tc.wantBody != "" && !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body %s lacks %s", body, tc.wantBody)
			}
			if h := tc.wantHeader; h[0] != "" && rec.Header().Get(h[0]) != h[1] {
				t.Errorf("%s = %q, want %q", h[0], rec.Header().Get(h[0]), h[1])
			}
			if tc.wantStatus == 200 && !json.Valid(body) {
				t.Errorf("body is not JSON: %s", body)
			}
		})
	}
	if calls := s.Recorder.Calls(); len(calls) != len(tests) || calls[0].Query != "format=json&Effective_From=2026-11-01-08:00" {
		t.Errorf("recorder saw %d calls, first %+v", len(calls), calls[0])
	}
}

func TestRowsAreCopies(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	row := map[string]any{"Employee_ID": "1"}
	s.AddRow(row)
	row["Employee_ID"] = "changed by caller"
	got := s.Rows()
	got[0]["Employee_ID"] = "changed by reader"
	if s.Rows()[0]["Employee_ID"] != "1" {
		t.Fatalf("simulator state changed through a caller's map: %v", s.Rows())
	}
	s.SetRows(nil)
	if len(s.Rows()) != 0 {
		t.Fatalf("SetRows(nil) left %d rows", len(s.Rows()))
	}
}

func TestEmptyReport(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	req := httptest.NewRequest(http.MethodGet, s.ReportPath()+"?format=json", nil)
	req.SetBasicAuth("ISU_offboard", "workday-sim-password")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"Report_Entry":[]}` {
		t.Fatalf("empty report = %d %s", rec.Code, rec.Body)
	}
}
