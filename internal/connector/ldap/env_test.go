package ldap

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
)

// wrongPassword is what BadCredentials binds with; it must never appear anywhere either.
const wrongPassword = "not-the-offboard-password-4e8a"

var treeSeq atomic.Int64

// env is one subtree of a running slapd seeded with a leaver (dana) and a colleague (sam):
// dana is in eng (groupOfNames), ops (groupOfUniqueNames) and devs (posixGroup), all shared
// with sam, so removing dana never empties a group.
type env struct {
	srv        *slapd.Server
	tree       *slapd.Tree
	dana, sam  string
	groups     map[string]string // cn -> DN
	danaPerson connector.Person
}

func newEnv(t *testing.T, srv *slapd.Server) *env {
	t.Helper()
	tree := srv.NewTree(t, fmt.Sprintf("t%d", treeSeq.Add(1)))
	e := &env{srv: srv, tree: tree, groups: map[string]string{}}
	e.dana = tree.AddPerson(t, "dana", "dana@example.org", nil)
	e.sam = tree.AddPerson(t, "sam", "sam@example.org", nil)
	e.groups["eng"] = tree.AddGroup(t, slapd.GroupOfNames, "eng", e.dana, e.sam)
	e.groups["ops"] = tree.AddGroup(t, slapd.GroupOfUniqueNames, "ops", e.sam, e.dana)
	e.groups["devs"] = tree.AddGroup(t, slapd.PosixGroup, "devs", "sam", "dana")
	e.danaPerson = connector.Person{WorkerID: "w-1", Email: "dana@example.org", Name: "Dana Leaver"}
	return e
}

// config is a writer's configuration for the env's subtree; edit may adjust it.
func (e *env) config(edit func(*Config)) Config {
	cfg := Config{URL: e.srv.URL, BindDN: slapd.WriterDN, BindPassword: slapd.WriterPW, BaseDN: e.tree.Base, Timeout: 10 * time.Second}
	if !e.srv.PPolicy {
		cfg.Disable.DisabledOU = e.tree.Disabled
	}
	if edit != nil {
		edit(&cfg)
	}
	return cfg
}

func (e *env) connector(t *testing.T, edit func(*Config)) *Connector {
	t.Helper()
	c, err := New(e.config(edit))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedURL is an ldap:// URL of a port where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ldap://" + addr
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// applyAll applies and verifies the plan's actions, groups first, failing on any error or
// unverified evidence.
func applyAll(t *testing.T, c *Connector, pl connector.Plan) {
	t.Helper()
	ctx := ctxFor(t)
	for _, a := range pl.Actions {
		if err := c.Apply(ctx, a); err != nil {
			t.Fatalf("apply %s: %v", a.Key(), err)
		}
		ev, err := c.Verify(ctx, a)
		if err != nil {
			t.Fatalf("verify %s: %v", a.Key(), err)
		}
		if !ev.Verified {
			t.Fatalf("verify %s: not verified: %s", a.Key(), ev.Observed)
		}
	}
}

func removeValue(dn, attr, val string) *goldap.ModifyRequest {
	req := goldap.NewModifyRequest(dn, nil)
	req.Delete(attr, []string{val})
	return req
}
