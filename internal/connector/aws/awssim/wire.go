package awssim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/offboard-dev/offboard/internal/sim"
)

// apiError is one of IAM's error answers: the HTTP status and the Query protocol's error code
// (the awsQueryError code of the Smithy model, or one of AWS's common errors).
type apiError struct {
	status    int
	code, msg string
}

func apiErr(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

// The errors the IAM model declares, with the status its awsQueryError trait gives.
func noSuchEntity(msg string) *apiError { return apiErr(http.StatusNotFound, "NoSuchEntity", msg) }
func deleteConflict(msg string) *apiError {
	return apiErr(http.StatusConflict, "DeleteConflict", msg)
}
func limitExceeded(msg string) *apiError {
	return apiErr(http.StatusConflict, "LimitExceeded", msg)
}
func invalidInput(msg string) *apiError { return apiErr(http.StatusBadRequest, "InvalidInput", msg) }

// validation is AWS's common ValidationError for an input that breaks the model's constraints.
func validation(msg string) *apiError {
	return apiErr(http.StatusBadRequest, "ValidationError", msg)
}

// commonErrors are the errors every AWS Query API may return whatever the operation declares
// (AWS "Common Errors"), so the action table need not list them.
var commonErrors = []string{
	"AccessDenied", "IncompleteSignature", "InternalFailure", "InvalidClientTokenId",
	"InvalidParameterValue", "MalformedQueryString", "MissingAction", "MissingAuthenticationToken",
	"MissingParameter", "RequestEntityTooLarge", "ServiceUnavailable", "SignatureDoesNotMatch",
	"Throttling", "ValidationError",
}

// CommonErrors lists the error codes the simulator may answer to any action: AWS's common
// errors for the Query protocol (authentication, throttling, validation).
func CommonErrors() []string { return slices.Clone(commonErrors) }

// call is one request being answered: its action, form and caller. Handlers read parameters
// only through param, which refuses names the action's table row does not declare, so the
// contract test's check of the table against the model covers every parameter read.
type call struct {
	s          *Server
	spec       *actionSpec
	form       url.Values
	caller     string
	undeclared *apiError
}

func (c *call) param(name string) string {
	if !slices.Contains(c.spec.Params, name) {
		c.undeclared = apiErr(http.StatusInternalServerError, "InternalFailure", "simulator bug: "+c.spec.Name+" reads undeclared parameter "+name)
		return ""
	}
	return c.form.Get(name)
}

// required reads a parameter the model marks required: missing, it is a ValidationError
// worded as AWS words it.
func (c *call) required(name string) (string, *apiError) {
	v := c.param(name)
	if v == "" && c.undeclared == nil {
		return "", validation(fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name)))
	}
	return v, c.undeclared
}

// userName reads UserName; where the model makes it optional, its absence means the caller.
func (c *call) userName(optional bool) (string, *apiError) {
	if optional {
		if v := c.param("UserName"); v != "" || c.undeclared != nil {
			return v, c.undeclared
		}
		return c.caller, nil
	}
	return c.required("UserName")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

// page cuts one page out of items by Marker and MaxItems (1–1000, default 100; apis.md §8.2),
// never more than Options.PageLimit.
func page[T any](c *call, items []T) ([]T, bool, string, *apiError) {
	limit := 100
	if v := c.param("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, false, "", validation("1 validation error detected: Value '" + v + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
		}
		limit = n
	}
	if c.s.opts.PageLimit > 0 {
		limit = min(limit, c.s.opts.PageLimit)
	}
	if c.undeclared != nil {
		return nil, false, "", c.undeclared
	}
	items, next := sim.Page(items, unmarker(c.form.Get("Marker")), limit)
	if next == "" {
		return items, false, "", nil
	}
	return items, true, marker(next), nil
}

// marker wraps a page cursor so that it looks as opaque as IAM's markers are.
func marker(cursor string) string { return "AAIA" + cursor + "xEXAMPLE" }

func unmarker(m string) string {
	if len(m) < 12 || m[:4] != "AAIA" || m[len(m)-8:] != "xEXAMPLE" {
		return ""
	}
	return m[4 : len(m)-8]
}

// members is a Query-protocol list: its items each wrapped in <member>, and the element
// present even when empty.
type members[T any] struct {
	Member []T `xml:"member"`
}

func list[T any](items []T) members[T] { return members[T]{Member: items} }

// stamp formats a time as IAM's responses do (ISO 8601, UTC).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (s *Server) requestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("5e1f0000-%04x-4000-8000-%012x", n>>48&0xffff, n&0xffffffffffff)
}

// writeResult writes the success envelope <{Action}Response><{Action}Result>…
// <ResponseMetadata><RequestId>; actions without output carry no Result element.
func (s *Server) writeResult(w http.ResponseWriter, action string, result any) {
	id := s.requestID()
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, action, namespace)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			s.writeError(w, apiErr(http.StatusInternalServerError, "InternalFailure", "simulator bug: "+err.Error()))
			return
		}
		_ = enc.Flush()
	}
	fmt.Fprintf(&b, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, id, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// writeError writes the Query protocol's error body. Type is Sender for the caller's
// mistakes (4xx) and Receiver for the service's (5xx).
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	id := s.requestID()
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	out, _ := xml.Marshal(errorResponse{Xmlns: namespace, Type: kind, Code: e.code, Message: e.msg, RequestID: id})
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(e.status)
	_, _ = w.Write(out)
}
