package connectortest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
	"github.com/offboard-dev/offboard/internal/connector/connectortest"
)

// flaw is a defect deliberately built into the acme connector, to prove the suite catches it.
type flaw string

const (
	sound               flaw = ""
	writesInPlan        flaw = "plan revokes sessions while reading"
	unstablePlan        flaw = "plan order changes between calls"
	duplicateActions    flaw = "plan lists every group twice"
	dependencyCycle     flaw = "sessions wait on deactivation, which waits on sessions"
	keptWithoutReason   flaw = "kept group has no reason"
	undeclaredOrder     flaw = "no After: relies on list order for remove-before-deactivate"
	verifyWithoutRead   flaw = "Verify says yes without reading"
	noEvidence          flaw = "Verify gives no Observed summary"
	goneIsFailure       flaw = "removing a group that is gone fails"
	unknownIsError      flaw = "an unknown person is an error"
	throttleIsError     flaw = "a 429 is an error"
	authIsRetryable     flaw = "errors lose their Permanent mark"
	everythingPermanent flaw = "every error is marked Permanent"
	outageIsNotFound    flaw = "any failed lookup means no account"
	leaksToken          flaw = "errors carry the token"
)

// acme is a minimal connector for acmeSim over connector.Client.
type acme struct {
	c     *connector.Client
	token string
	flaw  flaw
	plans atomic.Int64
}

func (a *acme) System() string { return "acme" }

type acmeGroup struct{ ID, Name string }

func (a *acme) fail(err error) error {
	switch a.flaw {
	case authIsRetryable:
		return errors.New(err.Error())
	case everythingPermanent:
		return connector.Permanent(err)
	case leaksToken:
		return fmt.Errorf("acme (token %s): %w", a.token, err)
	}
	return err
}

func (a *acme) Plan(ctx context.Context, p connector.Person) (connector.Plan, error) {
	pl := connector.Plan{System: "acme", Actions: []connector.Action{}}
	var users []struct{ ID, Email, Status string }
	if _, err := a.c.JSON(ctx, http.MethodGet, "/api/users", url.Values{"email": {p.Email}}, nil, &users); err != nil {
		if a.flaw == outageIsNotFound {
			users = nil
		} else {
			return pl, a.fail(fmt.Errorf("acme: find %s: %w", p.Email, err))
		}
	}
	if len(users) == 0 {
		if a.flaw == unknownIsError {
			return pl, errors.New("acme: no such user")
		}
		pl.NotFound = true
		pl.Notes = append(pl.Notes, "no acme user has the email "+p.Email)
		return pl, nil
	}
	u := users[0]
	pl.Account = u.ID + " (" + u.Email + ", " + u.Status + ")"
	user := map[string]string{"user": u.ID}

	var sessions struct{ Count int }
	if _, err := a.c.JSON(ctx, http.MethodGet, "/api/users/"+url.PathEscape(u.ID)+"/sessions", nil, nil, &sessions); err != nil {
		return pl, a.fail(fmt.Errorf("acme: sessions of %s: %w", u.ID, err))
	}
	if sessions.Count > 0 {
		if a.flaw == writesInPlan {
			if _, err := a.c.Do(ctx, connector.Request{Method: http.MethodDelete, Path: "/api/users/" + u.ID + "/sessions"}); err != nil {
				return pl, a.fail(err)
			}
		}
		act := connector.Action{System: "acme", Kind: "revoke_sessions", Target: u.ID, Detail: fmt.Sprintf("Revoke %d sessions", sessions.Count), Params: user}
		if a.flaw == dependencyCycle {
			act.After = []string{"deactivate"}
		}
		pl.Actions = append(pl.Actions, act)
	}
	groups, err := a.groups(ctx, u.ID)
	if err != nil {
		return pl, a.fail(err)
	}
	if a.flaw == unstablePlan && a.plans.Add(1)%2 == 0 {
		slices.Reverse(groups)
	}
	for _, g := range groups {
		if g.ID == "g-everyone" {
			k := connector.Kept{System: "acme", Target: g.ID, Detail: "Group " + g.Name, Reason: "built-in group every user belongs to"}
			if a.flaw == keptWithoutReason {
				k.Reason = ""
			}
			pl.Kept = append(pl.Kept, k)
			continue
		}
		if u.Status != "ACTIVE" {
			continue
		}
		act := connector.Action{System: "acme", Kind: "remove_group", Target: g.ID, Detail: "Remove from group " + g.Name, Params: user, After: []string{"revoke_sessions"}}
		if a.flaw == undeclaredOrder {
			act.After = nil
		}
		pl.Actions = append(pl.Actions, act)
		if a.flaw == duplicateActions {
			pl.Actions = append(pl.Actions, act)
		}
	}
	if u.Status == "ACTIVE" {
		act := connector.Action{System: "acme", Kind: "deactivate", Target: u.ID, Detail: "Deactivate " + u.Email, Params: user, After: []string{"revoke_sessions", "remove_group"}}
		if a.flaw == undeclaredOrder {
			act.After = nil
		}
		pl.Actions = append(pl.Actions, act)
	}
	return pl, nil
}

// groups follows the Link header through every page of the user's groups.
func (a *acme) groups(ctx context.Context, id string) ([]acmeGroup, error) {
	var all []acmeGroup
	path := "/api/users/" + url.PathEscape(id) + "/groups"
	for path != "" {
		var page []acmeGroup
		resp, err := a.c.JSON(ctx, http.MethodGet, path, nil, nil, &page)
		if err != nil {
			return nil, fmt.Errorf("acme: groups of %s: %w", id, err)
		}
		all = append(all, page...)
		path = resp.NextLink()
	}
	return all, nil
}

func (a *acme) Apply(ctx context.Context, act connector.Action) error {
	user := url.PathEscape(act.Param("user"))
	var req connector.Request
	switch act.Kind {
	case "revoke_sessions":
		req = connector.Request{Method: http.MethodDelete, Path: "/api/users/" + user + "/sessions"}
	case "remove_group":
		req = connector.Request{Method: http.MethodDelete, Path: "/api/users/" + user + "/groups/" + url.PathEscape(act.Target)}
	case "deactivate":
		req = connector.Request{Method: http.MethodPost, Path: "/api/users/" + user + "/deactivate"}
	default:
		return connector.Permanent(fmt.Errorf("acme: unknown action kind %q", act.Kind))
	}
	_, err := a.c.Do(ctx, req)
	if errors.Is(err, connector.ErrNotFound) && a.flaw != goneIsFailure {
		return nil
	}
	if err != nil {
		return a.fail(fmt.Errorf("acme: %s: %w", act.Detail, err))
	}
	return nil
}

func (a *acme) Verify(ctx context.Context, act connector.Action) (connector.Evidence, error) {
	if a.flaw == verifyWithoutRead {
		return connector.Evidence{Verified: true, Observed: "assumed", CheckedAt: time.Now()}, nil
	}
	user := act.Param("user")
	ev := connector.Evidence{CheckedAt: time.Now()}
	switch act.Kind {
	case "revoke_sessions":
		var s struct{ Count int }
		if _, err := a.c.JSON(ctx, http.MethodGet, "/api/users/"+url.PathEscape(user)+"/sessions", nil, nil, &s); err != nil {
			return ev, a.fail(err)
		}
		ev.Verified, ev.Observed = s.Count == 0, fmt.Sprintf("user %s has %d sessions", user, s.Count)
	case "remove_group":
		groups, err := a.groups(ctx, user)
		if err != nil {
			return ev, a.fail(err)
		}
		member := slices.ContainsFunc(groups, func(g acmeGroup) bool { return g.ID == act.Target })
		ev.Verified, ev.Observed = !member, fmt.Sprintf("user %s member of %s: %v", user, act.Target, member)
	case "deactivate":
		var u struct{ Status string }
		if _, err := a.c.JSON(ctx, http.MethodGet, "/api/users/"+url.PathEscape(user), nil, nil, &u); err != nil {
			return ev, a.fail(err)
		}
		ev.Verified, ev.Observed = u.Status == "DEACTIVATED", "user "+user+" status "+u.Status
	default:
		return ev, connector.Permanent(fmt.Errorf("acme: unknown action kind %q", act.Kind))
	}
	if a.flaw == noEvidence {
		ev.Observed = ""
	}
	return ev, nil
}

// throttleFails turns a 429 into a transport error, as a connector that ignores rate limits
// would behave.
type throttleFails struct{ next http.RoundTripper }

func (t throttleFails) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		resp.Body.Close()
		return nil, errors.New("rate limited")
	}
	return resp, err
}

const (
	goodToken = "acme-token-7f3a9c2e1b"
	badToken  = "acme-wrong-4d8e6b0a5c"
)

// newAcmeFixture starts a fresh acmeSim with a seeded leaver and returns the fixture for a
// connector with the given flaw.
func newAcmeFixture(t *testing.T, f flaw) connectortest.Fixture {
	s := newAcmeSim(goodToken)
	s.addUser("u1", "jane@acme.test", 2, map[string]string{"g-eng": "Engineering", "g-ops": "Ops", "g-vpn": "VPN"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	newConn := func(token string) *acme {
		hc := srv.Client()
		if f == throttleIsError {
			hc = &http.Client{Transport: throttleFails{next: srv.Client().Transport}}
		}
		return &acme{token: token, flaw: f, c: &connector.Client{
			System:  "acme",
			BaseURL: srv.URL,
			HTTP:    hc,
			Authorize: func(r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			},
			Retries: 1,
		}}
	}
	return connectortest.Fixture{
		Connector:      newConn(goodToken),
		BadCredentials: newConn(badToken),
		Person:         connector.Person{WorkerID: "1", Email: "jane@acme.test", Name: "Jane"},
		Unknown:        connector.Person{WorkerID: "2", Email: "nobody@acme.test", Name: "Nobody"},
		Secret:         goodToken,
		OtherSecrets:   []string{badToken},
		Faults:         s.Faults,
		Recorder:       s.Recorder,
	}
}
