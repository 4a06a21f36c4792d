package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/signature"
	"github.com/offboard-dev/offboard/internal/simenv"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// company is a running simulated company and a configuration pointing at it, with an SQLite
// store of its own.
type company struct {
	env    *simenv.Env
	info   simenv.Info
	config string
	db     string
}

func newCompany(t *testing.T) *company {
	t.Helper()
	env := simenv.New(simenv.Options{})
	srv := httptest.NewServer(env.Handler())
	t.Cleanup(srv.Close)
	info := env.Info(srv.URL)
	dir := t.TempDir()
	db := filepath.Join(dir, "offboard.db")
	cfg := strings.Replace(info.Config, "store: sqlite://offboard.db", "store: sqlite://"+db, 1)
	path := filepath.Join(dir, "offboard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &company{env: env, info: info, config: path, db: db}
}

type result struct {
	code           int
	stdout, stderr string
}

// syncBuffer is a bytes.Buffer safe for the engine's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errs syncBuffer
	code := run(ctx, args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errs, isTerminal: func() bool { return false }})
	return result{code: code, stdout: out.String(), stderr: errs.String()}
}

const (
	dana  = "dana.whitfield@acme.example"
	priya = "priya.raman@acme.example"
)

// withoutSystem removes a connector's section from the company's configuration file.
func (co *company) withoutSystem(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(co.config)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "connectors" {
			continue
		}
		conns := top.Content[i+1]
		for j := 0; j+1 < len(conns.Content); j += 2 {
			if conns.Content[j].Value == name {
				conns.Content = append(conns.Content[:j], conns.Content[j+2:]...)
				break
			}
		}
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(co.config, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunOffboardsAPersonAndExitsZeroWhenEverythingIsVerified(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	// Jenkins always leaves one item for a person (its web sessions cannot be read back), so
	// it is left out here; TestRunLeavesTheLeaverNothingAnywhere runs the whole company.
	co.withoutSystem(t, "jenkins")
	r := runCLI(t, "", "run", "--config", co.config, "--email", dana, "--manager", priya, "--yes", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var v workflow.CaseView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("--output json is not the case: %v\n%s", err, r.stdout)
	}
	if v.State != store.CaseCompleted || len(v.Steps) == 0 {
		t.Fatalf("case %s with %d steps", v.State, len(v.Steps))
	}
	for _, s := range v.Steps {
		if s.Evidence == nil || !s.Evidence.Verified || s.VerifiedAt == nil {
			t.Errorf("step %s has no verified evidence", s.Action.Key())
		}
	}
	// The simulator's own read-back: nothing left but what only deactivation ends.
	id := co.env.OktaID(simenv.DemoLeaver)
	if st := co.env.Okta.UserStatus(id); st != "DEPROVISIONED" {
		t.Errorf("okta status %s", st)
	}
	for _, g := range co.env.Okta.GroupsOf(id) {
		if g.Type == "OKTA_GROUP" {
			t.Errorf("still in okta group %s", g.Name)
		}
	}
	if n := len(co.env.Okta.FactorsOf(id)) + len(co.env.Okta.RolesOf(id)) + len(co.env.Okta.GrantsOf(id)); n != 0 {
		t.Errorf("%d factors, roles or grants left", n)
	}
	is, ok := co.env.Jira.Issue(v.TicketKey)
	if !ok || is.Status != "Done" || len(is.Attachments) != 1 {
		t.Fatalf("ticket %q: %+v", v.TicketKey, is)
	}
	if !strings.Contains(r.stderr, "✓ okta") {
		t.Errorf("no progress shown on stderr:\n%s", r.stderr)
	}

	// The audit chain verifies, and an edited record is found.
	if r := runCLI(t, "", "audit", "verify", "--config", co.config); r.code != ExitOK || !strings.Contains(r.stdout, "intact") {
		t.Fatalf("audit verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
	db, err := sql.Open("sqlite", co.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_records SET message = 'nothing happened' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "audit", "verify", "--config", co.config); r.code != ExitError || !strings.Contains(r.stdout, "record 3") {
		t.Fatalf("tampered audit: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", "status", "--config", co.config, "1"); r.code != ExitOK || !strings.Contains(r.stdout, "completed") {
		t.Fatalf("status: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestRunExitsThreeWhenTheCaseIsLeftPartial(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	// Okta refuses one group removal: a permanent failure a human must look at.
	co.env.Okta.Faults.Only(func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "00gengineering000001")
	})
	co.env.Okta.Faults.FailNext(1000, http.StatusForbidden)
	r := runCLI(t, "", "run", "--config", co.config, "--email", dana, "--yes")
	if r.code != ExitPartial {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "What a human must do") {
		t.Errorf("the output does not say what a human must do:\n%s", r.stdout)
	}
	id := co.env.OktaID(simenv.DemoLeaver)
	if co.env.Okta.UserStatus(id) == "DEPROVISIONED" {
		t.Error("deactivated although a step it waits for failed")
	}
	issues := co.env.Jira.Issues()
	if len(issues) != 1 || issues[0].Status == "Done" || !strings.Contains(strings.Join(issues[0].Labels, ","), "offboarding-partial") {
		t.Fatalf("ticket of a partial case: %+v", issues)
	}
}

func TestRunRefusesWithoutConfirmationOrValidInput(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("connectors:\n  okta:\n    base_url: notaurl\n    tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no --yes without a terminal", []string{"run", "--config", co.config, "--email", dana}, ExitUsage, "without --yes"},
		{"nobody named", []string{"run", "--config", co.config, "--yes"}, ExitUsage, "--email or --worker-id"},
		{"no config", []string{"plan", "--email", dana}, ExitUsage, "--config is required"},
		{"every config problem at once", []string{"plan", "--config", bad, "--email", dana}, ExitUsage, "tokn"},
		{"bad output", []string{"plan", "--config", co.config, "--email", dana, "--output", "xml"}, ExitUsage, "text or json"},
		{"unknown flag", []string{"plan", "--config", co.config, "--mail", dana}, ExitUsage, "unknown flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d stderr %q; want %d with %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	if r := runCLI(t, "", "plan", "--config", bad, "--email", dana); !strings.Contains(r.stderr, "base_url") {
		t.Errorf("only some problems reported: %s", r.stderr)
	}
	if n := co.env.Okta.Recorder.Count(http.MethodDelete, "", ""); n != 0 {
		t.Fatalf("a refused run changed something: %d deletes", n)
	}
}

func TestPlanReadsOnlyAndShowsWhatIsKept(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	// A worker ID is looked up in the Workday termination report.
	co.env.Terminate(simenv.DemoLeaver, time.Now())
	r := runCLI(t, "", "plan", "--config", co.config, "--worker-id", simenv.DemoLeaver)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"Deactivate Okta user", "keep:", "Everyone", "Nothing has been changed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, c := range co.env.Okta.Recorder.Calls() {
		if c.Method != http.MethodGet {
			t.Errorf("plan changed something: %s %s", c.Method, c.Path)
		}
	}
	r = runCLI(t, "", "plan", "--config", co.config, "--email", "nobody@acme.example", "--output", "json")
	if r.code != ExitOK || !strings.Contains(r.stdout, `"not_found": true`) {
		t.Fatalf("unknown person: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestNoSecretLeavesOffboard runs a whole case with known credentials and looks for them in
// everything offboard wrote: its output and logs, the audit log, the stored case, and the
// ticket with its evidence.
func TestNoSecretLeavesOffboard(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	r := runCLI(t, "", "run", "--config", co.config, "--email", dana, "--manager", priya, "--yes", "--output", "json")
	if r.code != ExitOK && r.code != ExitPartial {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	status := runCLI(t, "", "status", "--config", co.config, "1", "--output", "json")
	var everything strings.Builder
	everything.WriteString(r.stdout + r.stderr + status.stdout + status.stderr)
	db, err := sql.Open("sqlite", co.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"SELECT message || coalesce(data, '') FROM audit_records", "SELECT payload FROM ticket_updates", "SELECT person || coalesce(plans, '') FROM cases", "SELECT action || coalesce(evidence, '') || coalesce(last_error, '') FROM steps"} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			everything.WriteString(s)
		}
		rows.Close()
	}
	for _, is := range co.env.Jira.Issues() {
		everything.WriteString(is.Summary + is.Description + strings.Join(is.Comments, ""))
		for _, a := range is.Attachments {
			everything.Write(a.Data)
		}
	}
	text := everything.String()
	if !strings.Contains(text, dana) || !strings.Contains(text, "verified") {
		t.Fatal("the collected text is not what offboard wrote")
	}
	secrets := map[string]string{
		"okta token": simenv.OktaToken, "jira token": simenv.JiraToken,
		"workday password": simenv.WorkdayPassword, "webhook secret": simenv.WebhookSecret,
		"docker hub token": simenv.DockerHubToken, "jenkins token": simenv.JenkinsToken,
		"entra secret": simenv.EntraSecret, "slack token": simenv.SlackToken,
		"zoom token": simenv.SCIMTokenPrefix + "zoom", "admin tool secret": simenv.ToolSecret,
		"github token":       simenv.GitHubToken,
		"aws secret key":     simenv.AWSSecretKey,
		"google private key": googleKeyLine(t, co.info.Config),
	}
	for name, secret := range secrets {
		if strings.Contains(text, secret) {
			t.Errorf("the %s appears in offboard's output, logs, audit, store or ticket", name)
		}
	}
}

func TestSimPrintsItsCompanyAsOneJSONLine(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--addr", "127.0.0.1:0", "--output", "json"}, &env{stdin: strings.NewReader(""), stdout: out, stderr: &syncBuffer{}, isTerminal: func() bool { return false }})
	}()
	var line string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s := out.String(); strings.Contains(s, "\n") {
			line = s[:strings.Index(s, "\n")]
			break
		}
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("sim exited %d", code)
	}
	var info simenv.Info
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not JSON: %v: %q", err, line)
	}
	if len(info.People) < 3 || info.People[0].Identities["okta"] == "" || info.BaseURLs["okta"] == "" || info.Credentials["okta_token"] == "" {
		t.Fatalf("sim info: %+v", info)
	}
	resp, err := http.Get(info.BaseURLs["okta"] + "/api/v1/users/me")
	if err == nil {
		resp.Body.Close()
		t.Fatal("the simulators still answer after the command stopped")
	}
	if r := runCLI(t, "", "sim", "--addr", "10.0.0.1:80"); r.code != ExitUsage {
		t.Fatalf("a non-loopback address: exit %d", r.code)
	}
}

// TestServeTakesASignedTerminationAndShutsDownGracefully runs the daemon: a signed HR webhook
// opens a case, the API shows it verified, and cancelling (what SIGTERM does) stops it cleanly.
func TestServeTakesASignedTerminationAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	cfg, err := os.ReadFile(co.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("listen: 127.0.0.1:8080"), []byte("listen: 127.0.0.1:0"), 1)
	if err := os.WriteFile(co.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", co.config}, &env{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: logs, isTerminal: func() bool { return false }})
	}()
	addr := ""
	for deadline := time.Now().Add(30 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "offboard serving" {
				addr = rec.Addr
			}
		}
	}
	if addr == "" {
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	body := []byte(fmt.Sprintf(`{"event_id":"hr-1","type":"termination","worker_id":"W1004","email":"lee.park@acme.example","name":"Lee Park","manager_email":"priya.raman@acme.example","effective_at":%q,"reason":"contract ended"}`, time.Now().UTC().Format(time.RFC3339)))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/hr/events", bytes.NewReader(body))
	req.Header.Set("Offboard-Signature", signature.Sign([]byte(simenv.WebhookSecret), time.Now(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("signed webhook: %d", resp.StatusCode)
	}
	unsigned, _ := http.Post("http://"+addr+"/v1/hr/events", "application/json", bytes.NewReader(body))
	if unsigned.Body.Close(); unsigned.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned webhook: %d", unsigned.StatusCode)
	}
	var v workflow.CaseView
	for deadline := time.Now().Add(60 * time.Second); v.State != store.CaseCompleted; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("case not completed: %+v\n%s", v, logs.String())
		}
		resp, err := http.Get("http://" + addr + "/v1/cases/1")
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
	}
	metrics := scrape(t, "http://"+addr+"/metrics")
	if !strings.Contains(metrics, `offboard_step_attempts_total{kind="deactivate",result="verified",system="okta"} 1`) {
		t.Errorf("/metrics lacks the verified deactivation:\n%s", grepLines(metrics, "offboard_"))
	}
	if strings.Contains(metrics, "lee.park") {
		t.Error("/metrics names the person")
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("serve exited %d:\n%s", code, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no graceful shutdown in the log:\n%s", logs.String())
	}
}

func TestImportIsAllOrNothingAndOpensEachCaseOnce(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	header := "worker_id,email,name,manager_email,effective_at,reason,involuntary\n"
	if err := os.WriteFile(bad, []byte(header+"W1004,lee.park@acme.example,Lee Park,,2026-13-40,,no\nW1005,not-an-email,Alex Kim,,,,no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(header+"W1004,lee.park@acme.example,Lee Park,,,contract end,no\nW1005,alex.kim@acme.example,Alex Kim,,2099-01-31,,no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "import", "--config", co.config, "--yes", bad)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "nothing was imported") || !strings.Contains(r.stderr, "line 2") || !strings.Contains(r.stderr, "line 3") {
		t.Fatalf("bad file: %d %s", r.code, r.stderr)
	}
	r = runCLI(t, "", "import", "--config", co.config, "--yes", good)
	if r.code != ExitOK || !strings.Contains(r.stdout, "opened") || !strings.Contains(r.stdout, "scheduled") {
		t.Fatalf("good file: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", "import", "--config", co.config, "--yes", good)
	if r.code != ExitOK || strings.Count(r.stdout, "duplicate") != 2 {
		t.Fatalf("importing again must open nothing new: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", "import", "--config", co.config, good); r.code != ExitUsage {
		t.Fatalf("without --yes and no terminal: %d", r.code)
	}
}

func TestCheckReportsEachSystemWithoutChangingAnything(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	r := runCLI(t, "", "check", "--config", co.config)
	if want := len(co.env.Systems()) + 2; r.code != ExitOK || strings.Count(r.stdout, "✓") != want {
		t.Fatalf("check: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cfg, err := os.ReadFile(co.config)
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(cfg, []byte(simenv.JiraToken), []byte("not-the-jira-token-0000"), 1)
	if err := os.WriteFile(co.config, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "check", "--config", co.config)
	if r.code != ExitError || !strings.Contains(r.stdout, "✗  ticket (jira)") || strings.Contains(r.stdout, "not-the-jira-token-0000") {
		t.Fatalf("check with a wrong Jira token: %d\n%s", r.code, r.stdout)
	}
	for _, c := range co.env.Okta.Recorder.Calls() {
		if c.Method != http.MethodGet {
			t.Errorf("check changed something: %s %s", c.Method, c.Path)
		}
	}
}

// googleKeyLine returns a line of the Google service account's private key from the
// configuration, to look for in everything offboard wrote.
func googleKeyLine(t *testing.T, config string) string {
	t.Helper()
	i := strings.Index(config, "BEGIN PRIVATE KEY-----\\n")
	if i < 0 {
		t.Fatal("no Google private key in the configuration")
	}
	line := config[i+len("BEGIN PRIVATE KEY-----\\n"):]
	return line[:strings.Index(line, "\\n")]
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRunLeavesTheLeaverNothingAnywhere is the promise of the whole product against the whole
// simulated company: `offboard run` for the demo's developer verifies every action in every
// system, and afterwards each simulator's own state shows nothing left for her. The one item
// left for a person is Jenkins' web sessions, which Jenkins offers no way to read back.
func TestRunLeavesTheLeaverNothingAnywhere(t *testing.T) {
	t.Parallel()
	co := newCompany(t)
	r := runCLI(t, "", "run", "--config", co.config, "--email", dana, "--manager", priya, "--yes", "--output", "json")
	if r.code != ExitPartial {
		t.Fatalf("exit %d, want %d (partial: one item for a person)\n%s", r.code, ExitPartial, r.stderr)
	}
	var v workflow.CaseView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	planned := map[string]int{}
	for _, s := range v.Steps {
		planned[s.Action.System]++
		if s.State != store.StepVerified || s.Evidence == nil || !s.Evidence.Verified {
			t.Errorf("step %s is %s", s.Action.Key(), s.State)
		}
	}
	for _, system := range co.env.Systems() {
		if planned[system] == 0 {
			t.Errorf("nothing was planned in %s", system)
		}
	}
	if len(v.NeedsHuman) != 1 || !strings.Contains(v.NeedsHuman[0], "Jenkins web sessions") {
		t.Errorf("needs a human: %q, want only Jenkins' web sessions", v.NeedsHuman)
	}
	for system, left := range co.env.Holdings(simenv.DemoLeaver) {
		if len(left) > 0 {
			t.Errorf("%s still shows for the leaver: %q", system, left)
		}
	}
	rotate := map[string]bool{}
	for _, p := range v.Plans {
		for _, r := range p.Rotate {
			rotate[r.Location+" "+r.Name] = true
		}
	}
	for _, want := range []string{"repository acme/payments AWS_SECRET_ACCESS_KEY", "repository acme/payments STRIPE_API_KEY"} {
		if !rotate[want] {
			t.Errorf("the plan does not list %s for rotation: %v", want, rotate)
		}
	}
	if rotate["repository acme/web NPM_TOKEN"] {
		t.Error("a repository the leaver could only write to is listed for rotation")
	}
	ticket := co.env.TicketText(v.TicketKey)
	if is, _ := co.env.Jira.Issue(v.TicketKey); !strings.Contains(strings.Join(is.Comments, "\n"), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("the ticket lists no secret to rotate: %s", ticket)
	}
	if st := co.env.Google.TransferStatus(dana, priya); st != "completed" {
		t.Errorf("Drive/Calendar handover to the manager: %q", st)
	}
	// The vendors' own read APIs agree: a fresh plan reads every system over its API and
	// finds nothing left to remove.
	r = runCLI(t, "", "plan", "--config", co.config, "--email", dana, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("plan after offboarding: exit %d\n%s", r.code, r.stderr)
	}
	var again struct {
		Plans []connector.Plan `json:"plans"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &again); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, r.stdout)
	}
	if len(again.Plans) != len(co.env.Systems()) {
		t.Errorf("the fresh plan covers %d systems, want %d", len(again.Plans), len(co.env.Systems()))
	}
	for _, p := range again.Plans {
		for _, a := range p.Actions {
			t.Errorf("%s: a fresh plan still finds %s", p.System, a.Detail)
		}
	}
}
