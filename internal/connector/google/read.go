package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// The parts of the Admin SDK's resources the connector reads (Directory API and Data Transfer
// API references).

type gUser struct {
	ID               string   `json:"id"`
	PrimaryEmail     string   `json:"primaryEmail"`
	Aliases          []string `json:"aliases,omitempty"`
	IsAdmin          bool     `json:"isAdmin"`
	IsDelegatedAdmin bool     `json:"isDelegatedAdmin"`
	Suspended        bool     `json:"suspended"`
	SuspensionReason string   `json:"suspensionReason,omitempty"`
	IsEnrolledIn2Sv  bool     `json:"isEnrolledIn2Sv"`
	IsEnforcedIn2Sv  bool     `json:"isEnforcedIn2Sv"`
}

type gToken struct {
	ClientID    string   `json:"clientId"`
	DisplayText string   `json:"displayText"`
	Scopes      []string `json:"scopes"`
	NativeApp   bool     `json:"nativeApp"`
	Anonymous   bool     `json:"anonymous"`
}

type gASP struct {
	CodeID       int    `json:"codeId"`
	Name         string `json:"name"`
	CreationTime string `json:"creationTime,omitempty"`
	LastTimeUsed string `json:"lastTimeUsed,omitempty"`
}

// gCode is a backup verification code. The code itself is a credential: it is counted and
// never copied into plans or evidence.
type gCode struct {
	VerificationCode string `json:"verificationCode"`
}

type gGroup struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type gParam struct {
	Key   string   `json:"key"`
	Value []string `json:"value"`
}

type gApp struct {
	ID             flexID   `json:"id"`
	Name           string   `json:"name"`
	TransferParams []gParam `json:"transferParams,omitempty"`
}

type gAppTransfer struct {
	ApplicationID             flexID   `json:"applicationId"`
	ApplicationTransferParams []gParam `json:"applicationTransferParams,omitempty"`
	ApplicationTransferStatus string   `json:"applicationTransferStatus,omitempty"`
}

type gTransfer struct {
	ID                        string         `json:"id"`
	OldOwnerUserID            string         `json:"oldOwnerUserId"`
	NewOwnerUserID            string         `json:"newOwnerUserId"`
	OverallTransferStatusCode string         `json:"overallTransferStatusCode"`
	RequestTime               string         `json:"requestTime,omitempty"`
	ApplicationDataTransfers  []gAppTransfer `json:"applicationDataTransfers"`
}

// Overall transfer states (Data Transfer API, DataTransfer.overallTransferStatusCode).
const (
	statusCompleted = "completed"
	statusFailed    = "failed"
)

// covers reports whether the transfer moves the data of every application in apps.
func (t gTransfer) covers(apps []string) bool {
	for _, a := range apps {
		if !slices.ContainsFunc(t.ApplicationDataTransfers, func(x gAppTransfer) bool { return string(x.ApplicationID) == a }) {
			return false
		}
	}
	return true
}

func (c *Connector) getUser(ctx context.Context, key string) (gUser, error) {
	var u gUser
	err := c.get(ctx, userPath(key), nil, &u)
	return u, err
}

// findUser looks the person up by their google handle, then by email. users.get also finds a
// user by an alias, so the address that matched (returned too) may not be the primary one.
func (c *Connector) findUser(ctx context.Context, p connector.Person) (*gUser, string, []string, error) {
	var keys []string
	for _, k := range []string{p.Handle(System), p.Email} {
		k = strings.TrimSpace(k)
		if k != "" && !slices.ContainsFunc(keys, func(x string) bool { return strings.EqualFold(x, k) }) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, "", nil, connector.Permanent(errors.New("google: the person has no google handle and no email to look their account up by"))
	}
	for _, k := range keys {
		u, err := c.getUser(ctx, k)
		if errors.Is(err, connector.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", keys, fmt.Errorf("google: look up user %s: %w", k, err)
		}
		return &u, k, keys, nil
	}
	return nil, "", keys, nil
}

type listOf[T any] struct {
	Items []T `json:"items"`
}

func (c *Connector) listTokens(ctx context.Context, uid string) ([]gToken, error) {
	var l listOf[gToken]
	err := c.get(ctx, userPath(uid, "tokens"), nil, &l)
	return l.Items, err
}

func (c *Connector) listASPs(ctx context.Context, uid string) ([]gASP, error) {
	var l listOf[gASP]
	err := c.get(ctx, userPath(uid, "asps"), nil, &l)
	return l.Items, err
}

func (c *Connector) countCodes(ctx context.Context, uid string) (int, error) {
	var l listOf[gCode]
	err := c.get(ctx, userPath(uid, "verificationCodes"), nil, &l)
	return len(l.Items), err
}

// maxPages bounds any paged read, so a server repeating a page token cannot loop forever.
const maxPages = 10000

// pages reads every page of a list that pages with pageToken/nextPageToken, handing each
// page's body to decode, which returns the page's next token.
func (c *Connector) pages(ctx context.Context, path string, query url.Values, decode func(*pageReader) error) error {
	seen := map[string]bool{}
	token := ""
	for n := 0; ; n++ {
		if n == maxPages {
			return fmt.Errorf("google: GET %s: more than %d pages", path, maxPages)
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if token != "" {
			q.Set("pageToken", token)
		}
		var pr pageReader
		if err := c.get(ctx, path, q, &pr.raw); err != nil {
			return err
		}
		if err := decode(&pr); err != nil {
			return fmt.Errorf("google: GET %s: decode reply: %w", path, err)
		}
		token = pr.next()
		if token == "" {
			return nil
		}
		if seen[token] {
			return fmt.Errorf("google: GET %s: paging repeats a page token", path)
		}
		seen[token] = true
	}
}

// listGroups reads every group the user is a direct member of.
func (c *Connector) listGroups(ctx context.Context, uid string) ([]gGroup, error) {
	var all []gGroup
	err := c.pages(ctx, dirPrefix+"/groups", url.Values{"userKey": {uid}, "maxResults": {"200"}}, func(pr *pageReader) error {
		var page []gGroup
		err := pr.field("groups", &page)
		all = append(all, page...)
		return err
	})
	return all, err
}

// listGroupsShared reads the user's groups, sharing one in-flight read among concurrent
// Verify calls. A shared read began no earlier than the caller asked minus its time in
// flight, so it can only be staler than a read of one's own: a removal it misses shows as
// "still a member" and the engine reads again; it can never show a membership gone that is
// not.
func (c *Connector) listGroupsShared(ctx context.Context, uid string) ([]gGroup, error) {
	ch := c.groupReads.DoChan(uid, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		return c.listGroups(rctx, uid)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]gGroup), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Connector) listApplications(ctx context.Context) ([]gApp, error) {
	var all []gApp
	err := c.pages(ctx, transferPrefix+"/applications", url.Values{"customerId": {c.customer}, "maxResults": {"500"}}, func(pr *pageReader) error {
		var page []gApp
		err := pr.field("applications", &page)
		all = append(all, page...)
		return err
	})
	return all, err
}

// listTransfers reads every transfer from one owner to another, newest first.
func (c *Connector) listTransfers(ctx context.Context, oldOwner, newOwner string) ([]gTransfer, error) {
	var all []gTransfer
	q := url.Values{"customerId": {c.customer}, "oldOwnerUserId": {oldOwner}, "newOwnerUserId": {newOwner}, "maxResults": {"500"}}
	err := c.pages(ctx, transferPrefix+"/transfers", q, func(pr *pageReader) error {
		var page []gTransfer
		err := pr.field("dataTransfers", &page)
		all = append(all, page...)
		return err
	})
	// Filter again: the filter is the server's, the decision is ours.
	all = slices.DeleteFunc(all, func(t gTransfer) bool { return t.OldOwnerUserID != oldOwner || t.NewOwnerUserID != newOwner })
	slices.SortStableFunc(all, func(a, b gTransfer) int { return strings.Compare(b.RequestTime, a.RequestTime) })
	return all, err
}

// access is everything a plan needs about one user, read concurrently.
type access struct {
	tokens []gToken
	asps   []gASP
	codes  int
	groups []gGroup
}

func (c *Connector) readAccess(ctx context.Context, uid string) (access, error) {
	var a access
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		a.tokens, err = c.listTokens(ctx, uid)
		return wrap(err, "list OAuth tokens of %s", uid)
	})
	g.Go(func() (err error) {
		a.asps, err = c.listASPs(ctx, uid)
		return wrap(err, "list app-specific passwords of %s", uid)
	})
	g.Go(func() (err error) {
		a.codes, err = c.countCodes(ctx, uid)
		return wrap(err, "list backup verification codes of %s", uid)
	})
	g.Go(func() (err error) {
		a.groups, err = c.listGroups(ctx, uid)
		return wrap(err, "list groups of %s", uid)
	})
	return a, g.Wait()
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("google: "+format+": %w", append(args, err)...)
}

// pageReader is one page of a list: its fields, undecoded until asked for.
type pageReader struct {
	raw map[string]json.RawMessage
}

// field decodes the named list field; an absent field (Google omits empty lists) is no items.
func (p *pageReader) field(name string, out any) error {
	v, ok := p.raw[name]
	if !ok {
		return nil
	}
	return json.Unmarshal(v, out)
}

func (p *pageReader) next() string {
	var s string
	if v, ok := p.raw["nextPageToken"]; ok {
		_ = json.Unmarshal(v, &s)
	}
	return s
}

// flexID is an int64 ID, which Google's JSON carries as a string; a bare number is accepted
// too, so a change of representation cannot make a read fail.
type flexID string

func (v *flexID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = flexID(n)
	return nil
}
