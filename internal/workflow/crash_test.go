package workflow_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/okta"
	"github.com/offboard-dev/offboard/internal/connector/okta/oktasim"
	"github.com/offboard-dev/offboard/internal/sim"
	"github.com/offboard-dev/offboard/internal/store"
	"github.com/offboard-dev/offboard/internal/store/sqlite"
	"github.com/offboard-dev/offboard/internal/workflow"
)

// The crash test runs the engine in a child process (this test binary, re-executed) so it can
// be killed for real, mid-case, with SIGKILL.
const (
	childEnv      = "OFFBOARD_ENGINE_CHILD"
	childDBEnv    = "OFFBOARD_ENGINE_CHILD_DB"
	childOktaEnv  = "OFFBOARD_ENGINE_CHILD_OKTA"
	childOpenEnv  = "OFFBOARD_ENGINE_CHILD_OPEN"
	crashToken    = "crash-test-okta-token-91c2"
	crashLeaver   = "riley@acme.example"
	crashGroups   = 60
	killAfterDels = 8
	// crashStepTimeout is short so that jobs the killed process left "running" count as
	// abandoned (after 1.5 × this) soon enough for a test.
	crashStepTimeout = 2 * time.Second
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runEngineChild())
	}
	os.Exit(m.Run())
}

// runEngineChild is the engine process: it opens the store, optionally receives the
// termination, and works until killed.
func runEngineChild() int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv(childDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open store:", err)
		return 1
	}
	conn := okta.New(okta.Config{BaseURL: os.Getenv(childOktaEnv), Token: crashToken})
	tuning := fastTuning
	tuning.StepTimeout = crashStepTimeout
	eng, err := workflow.New(workflow.Config{
		Store: st, Backend: workflow.SQLite(st.DB()), Connectors: []connector.Connector{conn},
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil)), Tuning: tuning,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: engine:", err)
		return 1
	}
	if err := eng.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child: start:", err)
		return 1
	}
	if os.Getenv(childOpenEnv) == "1" {
		if _, err := eng.Receive(ctx, termination("crash-1", crashLeaver, time.Now())); err != nil {
			fmt.Fprintln(os.Stderr, "child: receive:", err)
			return 1
		}
	}
	select {}
}

func startChild(t *testing.T, db, oktaURL string, open bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childDBEnv+"="+db, childOktaEnv+"="+oktaURL, childOpenEnv+"="+boolEnv(open))
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start engine process: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("engine process log:\n%s", logs.String())
		}
	})
	return cmd
}

func boolEnv(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func TestEngineResumesAfterAProcessKill(t *testing.T) {
	t.Parallel()
	okt := oktasim.New(oktasim.Options{Token: crashToken})
	okt.Faults.SetLatency(15 * time.Millisecond)
	userID := "00ucrashleaver000001"
	if err := okt.AddUser(oktasim.User{ID: userID, Login: crashLeaver, Email: crashLeaver, FirstName: "Riley", LastName: "Stone", Sessions: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range crashGroups {
		gid := fmt.Sprintf("00gcrash%012d", i)
		if err := okt.AddGroup(oktasim.Group{ID: gid, Name: fmt.Sprintf("Group %d", i), Type: "OKTA_GROUP"}); err != nil {
			t.Fatal(err)
		}
		if err := okt.AddMember(gid, userID); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if err := okt.AddFactor(userID, oktasim.Factor{ID: fmt.Sprintf("opfcrash%012d", i), Type: "push"}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(okt)
	t.Cleanup(srv.Close)
	db := filepath.Join(t.TempDir(), "offboard.db")

	first := startChild(t, db, srv.URL, true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := okt.Recorder.WaitFor(ctx, func(calls []sim.Call) bool {
		n := 0
		for _, c := range calls {
			if c.Method == http.MethodDelete && strings.HasPrefix(c.Path, "/api/v1/groups/") {
				n++
			}
		}
		return n >= killAfterDels
	})
	if err != nil {
		t.Fatalf("the engine never got to removing groups: %v", err)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL: no cleanup, no graceful stop
		t.Fatal(err)
	}
	_ = first.Wait()
	if okt.UserStatus(userID) == "DEPROVISIONED" {
		t.Fatal("the kill came too late to interrupt the case")
	}

	// Jobs the killed process was running still show as running; the restarted engine takes
	// them over once they are older than the rescue threshold, so restart after it.
	time.Sleep(crashStepTimeout * 2)
	startChild(t, db, srv.URL, false)
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var v workflow.CaseView
	deadline := time.Now().Add(90 * time.Second)
	for {
		v, err = workflow.LoadCase(context.Background(), st, 1)
		if err == nil && (v.State == store.CaseCompleted || v.State == store.CasePartial) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted engine did not finish the case: %s (%v)", describe(v), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v.State != store.CaseCompleted {
		t.Fatalf("case ended %s:\n%s", v.State, describe(v))
	}
	// No step lost: every group, both factors, the sessions, the grants and the
	// deactivation are steps, and every one is verified.
	if len(v.Steps) < crashGroups+2+2 {
		t.Fatalf("want at least %d steps, got %d", crashGroups+4, len(v.Steps))
	}
	for _, s := range v.Steps {
		if s.State != store.StepVerified {
			t.Errorf("step %s is %s", s.Action.Key(), s.State)
		}
	}
	if okt.UserStatus(userID) != "DEPROVISIONED" || len(okt.GroupsOf(userID)) != 1 || len(okt.FactorsOf(userID)) != 0 {
		t.Fatalf("okta after the case: status %s, groups %v, factors %v", okt.UserStatus(userID), okt.GroupsOf(userID), okt.FactorsOf(userID))
	}
	// No non-idempotent action twice: one deactivation, and no group removed twice with
	// success (a repeated DELETE after the crash answers 404: already gone).
	if n := okt.Recorder.Count(http.MethodPost, "/api/v1/users/", "/lifecycle/deactivate"); n != 1 {
		t.Errorf("deactivate called %d times, want exactly 1", n)
	}
	removed := map[string]int{}
	for _, c := range okt.Recorder.Calls() {
		if c.Method == http.MethodDelete && strings.HasPrefix(c.Path, "/api/v1/groups/") && c.Status == http.StatusNoContent {
			removed[c.Path]++
		}
	}
	for path, n := range removed {
		if n > 1 {
			t.Errorf("%s succeeded %d times", path, n)
		}
	}
	if len(removed) != crashGroups {
		t.Errorf("want %d distinct group removals, got %d", crashGroups, len(removed))
	}
	verifiedChain(t, st)
}
