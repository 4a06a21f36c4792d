package scimsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	elimity "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	elfilter "github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// users is the library's callback for the /Users resource type, over the Server's state.
type users struct{ s *Server }

// attributes renders a user as SCIM attributes (RFC 7643 §4.1); the library adds id, schemas
// and meta.
func (s *Server) attributesLocked(u *user) elimity.ResourceAttributes {
	attrs := elimity.ResourceAttributes{
		"userName": u.userName,
		"active":   u.active,
		"name":     map[string]any{"givenName": u.givenName, "familyName": u.familyName},
	}
	if u.email != "" {
		attrs["emails"] = []any{map[string]any{"value": u.email, "type": "work", "primary": true}}
	}
	groups := []any{}
	for _, g := range s.groupsOfLocked(u.id) {
		groups = append(groups, map[string]any{"value": g.id, "display": g.displayName, "type": "direct"})
	}
	attrs["groups"] = groups
	return attrs
}

func (s *Server) resourceLocked(u *user) elimity.Resource {
	r := elimity.Resource{ID: u.id, Attributes: s.attributesLocked(u)}
	if u.externalID != "" {
		r.ExternalID = optional.NewString(u.externalID)
	}
	return r
}

// Get answers GET /Users/{id} (RFC 7644 §3.4.1); an unknown ID is 404.
func (h *users) Get(_ *http.Request, id string) (elimity.Resource, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	u, ok := h.s.users[id]
	if !ok {
		return elimity.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	return h.s.resourceLocked(u), nil
}

// GetAll answers GET /Users (RFC 7644 §3.4.2): the filter, then one page from startIndex
// (1-based) of at most count users, with totalResults counting every match.
func (h *users) GetAll(_ *http.Request, params elimity.ListRequestParams) (elimity.Page, error) {
	var check func(map[string]any) bool
	if params.FilterValidator != nil {
		exp := unescape(params.FilterValidator.GetFilter())
		v := elfilter.NewFilterValidator(exp, userSchema(), schema.ExtensionEnterpriseUser())
		check = func(attrs map[string]any) bool { return v.PassesFilter(attrs) == nil }
	}
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	var matched []elimity.Resource
	for _, id := range h.s.order {
		u := h.s.users[id]
		if u == nil {
			continue
		}
		res := h.s.resourceLocked(u)
		if check != nil {
			attrs := map[string]any{"id": u.id}
			for k, v := range res.Attributes {
				attrs[k] = v
			}
			if u.externalID != "" {
				attrs["externalId"] = u.externalID
			}
			if !check(attrs) {
				continue
			}
		}
		matched = append(matched, res)
	}
	page := elimity.Page{TotalResults: len(matched), Resources: []elimity.Resource{}}
	start := params.StartIndex - 1
	if start < len(matched) && params.Count > 0 {
		end := min(start+params.Count, len(matched))
		page.Resources = matched[start:end]
	}
	return page, nil
}

// Patch answers PATCH /Users/{id} (RFC 7644 §3.5.2). Only the active attribute is modelled,
// in both forms IdPs send: {"op":"replace","path":"active","value":false} and the path-less
// {"op":"replace","value":{"active":false}} (apis.md §9.2). It answers 200 with the resource.
func (h *users) Patch(_ *http.Request, id string, ops []elimity.PatchOperation) (elimity.Resource, error) {
	h.s.mu.Lock()
	u, ok := h.s.users[id]
	if !ok {
		h.s.mu.Unlock()
		return elimity.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	before := u.active
	for _, op := range ops {
		active, err := activeValue(op)
		if err != nil {
			h.s.mu.Unlock()
			return elimity.Resource{}, err
		}
		u.active = active
	}
	res, after := h.s.resourceLocked(u), u.active
	h.s.mu.Unlock()
	if before != after {
		h.s.changed(id, after, true)
	}
	return res, nil
}

// activeValue reads the new active value from one operation, refusing what is not modelled.
func activeValue(op elimity.PatchOperation) (bool, error) {
	if !strings.EqualFold(op.Op, elimity.PatchOperationReplace) && !strings.EqualFold(op.Op, elimity.PatchOperationAdd) {
		return false, unsupported("only replace of the active attribute is modelled")
	}
	if op.Path != nil {
		if !strings.EqualFold(op.Path.AttributePath.AttributeName, "active") || op.Path.AttributePath.SubAttribute != nil {
			return false, unsupported("only the active attribute is modelled")
		}
		b, ok := op.Value.(bool)
		if !ok {
			return false, scimerr.ScimErrorInvalidValue
		}
		return b, nil
	}
	m, ok := op.Value.(map[string]any)
	if !ok || len(m) != 1 {
		return false, unsupported("only the active attribute is modelled")
	}
	for k, v := range m {
		b, isBool := v.(bool)
		if !strings.EqualFold(k, "active") || !isBool {
			return false, unsupported("only the active attribute is modelled")
		}
		return b, nil
	}
	return false, scimerr.ScimErrorInvalidValue
}

func unsupported(detail string) error {
	return scimerr.ScimError{ScimType: scimerr.ScimTypeInvalidPath, Detail: "simulator: " + detail, Status: http.StatusBadRequest}
}

// Delete answers DELETE /Users/{id} (RFC 7644 §3.6: 204, and the user is gone); with
// DeleteDeactivates it deactivates instead, as Slack documents.
func (h *users) Delete(_ *http.Request, id string) error {
	h.s.mu.Lock()
	u, ok := h.s.users[id]
	if !ok {
		h.s.mu.Unlock()
		return scimerr.ScimErrorResourceNotFound(id)
	}
	if h.s.opts.DeleteDeactivates {
		was := u.active
		u.active = false
		h.s.mu.Unlock()
		if was {
			h.s.changed(id, false, true)
		}
		return nil
	}
	delete(h.s.users, id)
	for _, g := range h.s.groups {
		g.members = removeString(g.members, id)
	}
	h.s.order = removeString(h.s.order, id)
	h.s.mu.Unlock()
	h.s.changed(id, false, false)
	return nil
}

// Create and Replace are not routed (the mux answers 501); the library's interface needs them.
func (h *users) Create(*http.Request, elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{}, scimerr.ScimError{Status: http.StatusNotImplemented}
}

// Replace is not routed; see Create.
func (h *users) Replace(*http.Request, string, elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{}, scimerr.ScimError{Status: http.StatusNotImplemented}
}

func (s *Server) changed(id string, active, exists bool) {
	if s.opts.OnActiveChange != nil {
		s.opts.OnActiveChange(id, active, exists)
	}
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// subAttributeOfMultiValued rewrites `emails.value eq "x"` as the equivalent
// `emails[value eq "x"]`: RFC 7644 §3.4.2.2 makes a sub-attribute of a multi-valued attribute
// match when any value matches, which the library only evaluates in the bracketed form.
func subAttributeOfMultiValued(e *filter.AttributeExpression) filter.Expression {
	p := e.AttributePath
	if p.SubAttribute == nil {
		return e
	}
	attr, ok := schema.CoreUserSchema().Attributes.ContainsAttribute(p.AttributeName)
	if !ok || !attr.MultiValued() {
		return e
	}
	return &filter.ValuePath{
		AttributePath: filter.AttributePath{URIPrefix: p.URIPrefix, AttributeName: p.AttributeName},
		ValueFilter: &filter.AttributeExpression{
			AttributePath: filter.AttributePath{AttributeName: *p.SubAttribute},
			Operator:      e.Operator,
			CompareValue:  e.CompareValue,
		},
	}
}

// unescape turns the filter's string literals into their values. The parser keeps a literal
// as written (`o\"brien`), but RFC 7644 §3.4.2.2 makes it a JSON string, so the escapes must
// be undone before comparing, or a correctly escaped filter would match nothing.
func unescape(e filter.Expression) filter.Expression {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		return subAttributeOfMultiValued(literal(e))
	case *filter.LogicalExpression:
		return &filter.LogicalExpression{Left: unescape(e.Left), Right: unescape(e.Right), Operator: e.Operator}
	case *filter.NotExpression:
		return &filter.NotExpression{Expression: unescape(e.Expression)}
	case *filter.ValuePath:
		// Inside brackets the attribute names are the value's own sub-attributes.
		return &filter.ValuePath{AttributePath: e.AttributePath, ValueFilter: unescapeInside(e.ValueFilter)}
	}
	return e
}

// unescapeInside is unescape for a value path's own filter, whose attributes are never
// rewritten (they name sub-attributes, not multi-valued attributes of the user).
func unescapeInside(e filter.Expression) filter.Expression {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		return literal(e)
	case *filter.LogicalExpression:
		return &filter.LogicalExpression{Left: unescapeInside(e.Left), Right: unescapeInside(e.Right), Operator: e.Operator}
	case *filter.NotExpression:
		return &filter.NotExpression{Expression: unescapeInside(e.Expression)}
	}
	return e
}

// literal returns a copy of e whose string value is the JSON string it was written as.
func literal(e *filter.AttributeExpression) *filter.AttributeExpression {
	c := *e
	if s, ok := c.CompareValue.(string); ok {
		var v string
		if json.Unmarshal([]byte(`"`+s+`"`), &v) == nil {
			c.CompareValue = v
		}
	}
	return &c
}
