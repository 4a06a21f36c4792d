package aws

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/offboard-dev/offboard/internal/connector"
)

// userNamePattern is IAM's constraint on user names (userNameType in the model).
var userNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// iamUser is the user the person was matched to.
type iamUser struct {
	Name    string            `json:"user_name"`
	ID      string            `json:"user_id"`
	ARN     string            `json:"arn"`
	Created time.Time         `json:"created"`
	Tags    map[string]string `json:"tags,omitempty"`
	// How says how the user was found, for the plan's notes.
	How string `json:"matched_by"`
}

// finding is the outcome of a lookup that found no user to act on: nobody, several
// candidates, or a user that must not be touched. It becomes a NotFound plan.
type finding struct {
	notes  []string
	manual []string
}

// find matches the person to one IAM user: by their handle when given (it always wins), else
// by the MatchTag tag holding their email, else by the configured user-name rule. Several
// users carrying the tag, or a name-matched user whose tag names someone else, is a finding
// for a human, never a guess.
func (c *Connector) find(ctx context.Context, p connector.Person) (*iamUser, *finding, error) {
	if h := strings.TrimSpace(p.Handle(c.name)); h != "" {
		name := handleName(h)
		u, err := c.getUser(ctx, name)
		if err != nil || u == nil {
			return nil, c.notFound(fmt.Sprintf("no IAM user named %q, the person's %s handle", name, c.name)), err
		}
		u.How = fmt.Sprintf("the person's %s handle", c.name)
		return u, nil, nil
	}
	email := strings.TrimSpace(p.Email)
	var tried []string
	if c.matchTag != "" && email != "" {
		u, f, err := c.findByTag(ctx, email)
		if u != nil || f != nil || err != nil {
			return u, f, err
		}
		tried = append(tried, fmt.Sprintf("no user has tag %s=%s", c.matchTag, email))
	}
	name, why := p.AccountName(c.name, c.userName)
	switch {
	case name == "":
		return nil, c.notFound(strings.Join(append(tried, why), "; ")), nil
	case !userNamePattern.MatchString(name):
		return nil, c.notFound(strings.Join(append(tried, fmt.Sprintf("%q is not a valid IAM user name", name)), "; ")), nil
	}
	u, err := c.getUser(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if u == nil {
		return nil, c.notFound(strings.Join(append(tried, fmt.Sprintf("no IAM user named %q (user names are derived by the %s rule)", name, c.userName)), "; ")), nil
	}
	if v, ok := u.Tags[c.matchTag]; c.matchTag != "" && ok && !strings.EqualFold(v, email) {
		return nil, &finding{
			notes:  []string{fmt.Sprintf("IAM user %s has the name derived for this person but its %s tag is %q, not %q: it is left alone", u.Name, c.matchTag, v, email)},
			manual: []string{fmt.Sprintf("Decide whether IAM user %s (%s) belongs to this person (name matches, tag %s=%q does not); if it does, set their %s handle to %s and plan again", u.Name, u.ARN, c.matchTag, v, c.name, u.Name)},
		}, nil
	}
	u.How = fmt.Sprintf("user name %s (the %s rule)", u.Name, c.userName)
	return u, nil, nil
}

func (c *Connector) notFound(why string) *finding {
	return &finding{notes: []string{fmt.Sprintf("not found in %s: %s", c.name, why)}}
}

// handleName accepts a user name or a user ARN (arn:aws:iam::123456789012:user/path/name).
func handleName(h string) string {
	if rest, ok := strings.CutPrefix(h, "arn:"); ok {
		if i := strings.Index(rest, ":user/"); i >= 0 {
			path := rest[i+len(":user/"):]
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return h
}

// getUser reads one user with its tags; nil when there is none.
func (c *Connector) getUser(ctx context.Context, name string) (*iamUser, error) {
	out, err := call(ctx, c, "GetUser", func(ctx context.Context) (*iam.GetUserOutput, error) {
		return c.iam.GetUser(ctx, &iam.GetUserInput{UserName: sdk.String(name)})
	})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: look up IAM user %s: %w", c.name, name, err)
	}
	return fromSDKUser(out.User), nil
}

func fromSDKUser(u *types.User) *iamUser {
	if u == nil {
		return &iamUser{}
	}
	out := &iamUser{Name: sdk.ToString(u.UserName), ID: sdk.ToString(u.UserId), ARN: sdk.ToString(u.Arn), Created: sdk.ToTime(u.CreateDate).UTC()}
	if len(u.Tags) > 0 {
		out.Tags = make(map[string]string, len(u.Tags))
		for _, t := range u.Tags {
			out.Tags[sdk.ToString(t.Key)] = sdk.ToString(t.Value)
		}
	}
	return out
}

// findByTag looks for users whose MatchTag tag equals email (case-insensitively). IAM's
// ListUsers does not return tags, so each user's tags are read, in parallel on the pacer;
// concurrent plans share one scan.
func (c *Connector) findByTag(ctx context.Context, email string) (*iamUser, *finding, error) {
	tagged, err := c.scanTags(ctx)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for name, v := range tagged {
		if strings.EqualFold(strings.TrimSpace(v), email) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return nil, nil, nil
	case 1:
		u, err := c.getUser(ctx, names[0])
		if err != nil {
			return nil, nil, err
		}
		if u == nil {
			// Deleted since the scan: a retry settles whether the person still has a user.
			return nil, nil, fmt.Errorf("%s: IAM user %s vanished while it was being read", c.name, names[0])
		}
		u.How = fmt.Sprintf("tag %s=%s", c.matchTag, email)
		return u, nil, nil
	}
	return nil, &finding{
		notes:  []string{fmt.Sprintf("ambiguous in %s: %d IAM users have tag %s=%s (%s); none is touched", c.name, len(names), c.matchTag, email, strings.Join(names, ", "))},
		manual: []string{fmt.Sprintf("Decide which of the IAM users %s belongs to this person (all are tagged %s=%s), fix the tags or set their %s handle, and plan again", strings.Join(names, ", "), c.matchTag, email, c.name)},
	}, nil
}

// scanTags returns every user's MatchTag value (users without the tag are left out).
func (c *Connector) scanTags(ctx context.Context) (map[string]string, error) {
	ch := c.scans.DoChan("scan", func() (any, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		defer cancel()
		return c.scanTagsOnce(sctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(map[string]string), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Connector) scanTagsOnce(ctx context.Context) (map[string]string, error) {
	users, err := pages(ctx, c, "ListUsers", func(ctx context.Context, marker *string) ([]types.User, *string, error) {
		out, err := c.iam.ListUsers(ctx, &iam.ListUsersInput{Marker: marker, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.Users, nextMarker(out.IsTruncated, out.Marker), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list IAM users: %w", c.name, err)
	}
	var mu sync.Mutex
	tagged := map[string]string{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for _, u := range users {
		name := sdk.ToString(u.UserName)
		g.Go(func() error {
			tags, err := c.listTags(gctx, name)
			if isNotFound(err) {
				return nil // deleted since the list
			}
			if err != nil {
				return err
			}
			if v, ok := tags[c.matchTag]; ok {
				mu.Lock()
				tagged[name] = v
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return tagged, nil
}

// listTags reads all of a user's tags.
func (c *Connector) listTags(ctx context.Context, name string) (map[string]string, error) {
	tags, err := pages(ctx, c, "ListUserTags", func(ctx context.Context, marker *string) ([]types.Tag, *string, error) {
		out, err := c.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: sdk.String(name), Marker: marker, MaxItems: sdk.Int32(pageSize)})
		if err != nil {
			return nil, nil, err
		}
		return out.Tags, nextMarker(out.IsTruncated, out.Marker), nil
	})
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[sdk.ToString(t.Key)] = sdk.ToString(t.Value)
	}
	return m, nil
}

// nextMarker is the marker of the next page, nil at the end.
func nextMarker(truncated bool, marker *string) *string {
	if !truncated || sdk.ToString(marker) == "" {
		return nil
	}
	return marker
}

// pages reads every page of an IAM list (Marker / IsTruncated, apis.md §8.2), each page one
// paced call.
func pages[T any](ctx context.Context, c *Connector, op string, fetch func(context.Context, *string) ([]T, *string, error)) ([]T, error) {
	var all []T
	var marker *string
	seen := map[string]bool{}
	for range maxPages {
		type page struct {
			items []T
			next  *string
		}
		p, err := call(ctx, c, op, func(ctx context.Context) (page, error) {
			items, next, err := fetch(ctx, marker)
			return page{items, next}, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, p.items...)
		if p.next == nil {
			return all, nil
		}
		if seen[*p.next] {
			return nil, fmt.Errorf("%s: IAM %s: paging repeats a marker", c.name, op)
		}
		seen[*p.next] = true
		marker = p.next
	}
	return nil, fmt.Errorf("%s: IAM %s: more than %d pages", c.name, op, maxPages)
}
