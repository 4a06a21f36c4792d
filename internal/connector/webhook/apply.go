package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/offboard-dev/offboard/internal/connector"
)

// maxRetryAfter caps the wait a tool may ask for after a failed apply, so a typo in the tool
// cannot park a step for a week.
const maxRetryAfter = time.Hour

// Apply sends one planned action to the tool ("apply" phase), with the action's key as the
// idempotency key. The tool must treat an effect already in place as success; a failure it
// reports is permanent unless it says retrying can help.
func (c *Connector) Apply(ctx context.Context, a connector.Action) error {
	req, err := c.actionRequest(PhaseApply, a)
	if err != nil {
		return err
	}
	var resp applyResponse
	if err := c.call(ctx, req, &resp); err != nil {
		return fmt.Errorf("%s: apply %s: %w", c.name, a.Key(), err)
	}
	if resp.OK == nil {
		return fmt.Errorf("%s: apply %s: %w", c.name, a.Key(), permanentAnswer("no \"ok\" in the apply answer"))
	}
	if *resp.OK {
		return nil
	}
	e := resp.Error
	if e == nil || e.Retryable == nil || clean(e.Message, maxText) == "" {
		return fmt.Errorf("%s: apply %s: %w", c.name, a.Key(), permanentAnswer("an apply answer with \"ok\": false needs an error with a message and \"retryable\""))
	}
	msg := clean(e.Message, maxText)
	if code := clean(e.Code, 64); code != "" {
		msg = code + ": " + msg
	}
	err = fmt.Errorf("%s: apply %s: the tool reports: %s", c.name, a.Key(), msg)
	switch {
	case !*e.Retryable:
		return connector.Permanent(err)
	case e.RetryAfter > 0:
		return connector.RetryAfter(min(time.Duration(e.RetryAfter)*time.Second, maxRetryAfter), err)
	default:
		return err
	}
}

// Verify asks the tool to read the action's target back ("verify" phase). The evidence keeps
// the tool's own read, as JSON, beside its summary.
func (c *Connector) Verify(ctx context.Context, a connector.Action) (connector.Evidence, error) {
	req, err := c.actionRequest(PhaseVerify, a)
	if err != nil {
		return connector.Evidence{}, err
	}
	var resp verifyResponse
	if err := c.call(ctx, req, &resp); err != nil {
		return connector.Evidence{}, fmt.Errorf("%s: verify %s: %w", c.name, a.Key(), err)
	}
	observed := clean(resp.Observed, maxText)
	if resp.Verified == nil || observed == "" {
		return connector.Evidence{}, fmt.Errorf("%s: verify %s: %w", c.name, a.Key(), permanentAnswer("a verify answer needs \"verified\" and a non-empty \"observed\""))
	}
	ev := connector.Evidence{Verified: *resp.Verified, Observed: observed, CheckedAt: c.now().UTC()}
	if read := bytes.TrimSpace(resp.Read); len(read) > 0 && !bytes.Equal(read, []byte("null")) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, read); err == nil {
			ev.Read = buf.Bytes()
		}
	}
	return ev, nil
}

// actionRequest rebuilds the request for a stored action: the person it was planned for comes
// from its params, and offboard's own params are not sent back to the tool.
func (c *Connector) actionRequest(phase string, a connector.Action) (request, error) {
	fail := func(msg string) (request, error) {
		return request{}, connector.Permanent(fmt.Errorf("%s: %s %s: %s", c.name, phase, a.Key(), msg))
	}
	if a.System != c.name {
		return fail(fmt.Sprintf("the action belongs to system %q, not %q", a.System, c.name))
	}
	var person wirePerson
	if err := json.Unmarshal([]byte(a.Param(personParam)), &person); err != nil {
		return fail("the action carries no person; it was not planned by this connector")
	}
	params := maps.Clone(a.Params)
	for k := range params {
		if strings.HasPrefix(k, reservedPrefix) {
			delete(params, k)
		}
	}
	return request{
		Phase:  phase,
		Person: &person,
		Action: &wireAction{
			Kind: a.Kind, Target: a.Target, Detail: a.Detail, Params: params, After: a.After, Before: a.Before,
		},
		IdempotencyKey: a.Key(),
	}, nil
}
