package jenkins

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboard-dev/offboard/internal/connector"
)

// crumb is a CSRF token and the session cookies it is bound to: since Jenkins 2.176.2 a crumb
// is only accepted together with the web session it was issued in.
type crumb struct {
	field, value string
	cookies      string
}

// post sends a form POST. Jenkins (2.96 and later) exempts requests authenticated with an
// API token from CSRF checks, so no crumb is fetched up front; when Jenkins does refuse with
// "No valid crumb", the connector fetches one from the crumb issuer and sends it, with its
// session cookie, once more. A crumb obtained once is reused.
func (c *Connector) post(ctx context.Context, path string, form url.Values) (*connector.Response, error) {
	for attempt := 0; ; attempt++ {
		cr := c.cachedCrumb()
		resp, err := c.client.Do(ctx, c.formRequest(path, form, cr))
		if connector.CodeOf(err) != "crumb" || attempt == 1 {
			return resp, err
		}
		if _, ferr := c.fetchCrumb(ctx, cr); ferr != nil {
			return nil, fmt.Errorf("jenkins: POST %s was refused for want of a CSRF crumb, and none could be obtained: %w", path, ferr)
		}
	}
}

func (c *Connector) formRequest(path string, form url.Values, cr *crumb) connector.Request {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if cr != nil {
		h.Set(cr.field, cr.value)
		if cr.cookies != "" {
			h.Set("Cookie", cr.cookies)
		}
	}
	return connector.Request{Method: http.MethodPost, Path: path, Header: h, Body: []byte(form.Encode())}
}

func (c *Connector) cachedCrumb() *crumb {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crumb
}

// fetchCrumb asks the crumb issuer for a crumb unless another caller already replaced stale.
func (c *Connector) fetchCrumb(ctx context.Context, stale *crumb) (*crumb, error) {
	c.fetching.Lock()
	defer c.fetching.Unlock()
	c.mu.Lock()
	if c.crumb != nil && c.crumb != stale {
		cr := c.crumb
		c.mu.Unlock()
		return cr, nil
	}
	c.mu.Unlock()
	var body struct {
		Crumb             string `json:"crumb"`
		CrumbRequestField string `json:"crumbRequestField"`
	}
	resp, err := c.client.JSON(ctx, http.MethodGet, "/crumbIssuer/api/json", nil, nil, &body)
	if err != nil {
		if connector.StatusOf(err) == http.StatusNotFound {
			return nil, connector.Permanent(fmt.Errorf("jenkins: Jenkins asked for a CSRF crumb but has no crumb issuer: %w", err))
		}
		return nil, err
	}
	if body.Crumb == "" || body.CrumbRequestField == "" {
		return nil, fmt.Errorf("jenkins: the crumb issuer answered without a crumb")
	}
	var pairs []string
	for _, line := range resp.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(line); err == nil {
			pairs = append(pairs, ck.Name+"="+ck.Value)
		}
	}
	cr := &crumb{field: body.CrumbRequestField, value: body.Crumb, cookies: strings.Join(pairs, "; ")}
	c.mu.Lock()
	c.crumb = cr
	c.mu.Unlock()
	return cr, nil
}
