package jirasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/offboard-dev/offboard/internal/sim"
)

// richText checks a rich-text field: ADF, within the size limit. It returns the plain text, or
// the field error Jira answers.
func (s *Server) richText(raw json.RawMessage) (string, string) {
	if len(raw) > s.opts.MaxText {
		return "", fmt.Sprintf("The entered text is too long. It exceeds the allowed limit of %d characters.", s.opts.MaxText)
	}
	text, err := adfText(raw)
	if err != nil {
		return "", err.Error()
	}
	return text, ""
}

// labelProblem says what is wrong with a label, or "" [R: labels cannot contain spaces].
func labelProblem(l string) string {
	switch {
	case strings.TrimSpace(l) == "":
		return "Label cannot be empty."
	case strings.ContainsAny(l, " \t\r\n"):
		return "The label '" + l + "' contains spaces which is invalid."
	case utf8.RuneCountInString(l) > 255:
		return "The label '" + l + "' exceeds the maximum length for a single label of 255 characters."
	}
	return ""
}

// create is POST /rest/api/3/issue [S: createIssue].
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Fields struct {
			Project     struct{ Key string }  `json:"project"`
			IssueType   struct{ Name string } `json:"issuetype"`
			Summary     string                `json:"summary"`
			Description json.RawMessage       `json:"description"`
			Labels      []string              `json:"labels"`
		} `json:"fields"`
	}
	if !decode(w, r, &req) {
		return
	}
	if s.denied(PermCreate) {
		fail(w, http.StatusForbidden, "You do not have permission to create issues in this project.")
		return
	}
	f := req.Fields
	problems := map[string]string{}
	if !slices.Contains(s.opts.Projects, f.Project.Key) || s.denied(PermBrowse) {
		problems["project"] = "valid project is required"
	}
	if !slices.Contains(s.opts.IssueTypes, f.IssueType.Name) {
		problems["issuetype"] = "Specify a valid issue type"
	}
	switch {
	case strings.TrimSpace(f.Summary) == "":
		problems["summary"] = "You must specify a summary of the issue."
	case strings.ContainsAny(f.Summary, "\r\n"):
		problems["summary"] = "The summary is invalid because it contains newline characters."
	case utf8.RuneCountInString(f.Summary) > 255:
		problems["summary"] = "Summary must be less than 255 characters."
	}
	desc := ""
	if len(f.Description) > 0 && string(f.Description) != "null" {
		text, problem := s.richText(f.Description)
		if problem != "" {
			problems["description"] = problem
		}
		desc = text
	}
	for _, l := range f.Labels {
		if p := labelProblem(l); p != "" {
			problems["labels"] = p
		}
	}
	if len(problems) > 0 {
		failFields(w, http.StatusBadRequest, nil, problems)
		return
	}
	s.mu.Lock()
	s.seq[f.Project.Key]++
	s.nextID++
	key := fmt.Sprintf("%s-%d", f.Project.Key, s.seq[f.Project.Key])
	id := strconv.Itoa(s.nextID)
	labels := []string{}
	for _, l := range f.Labels {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	s.issues[key] = &issue{Issue: Issue{ID: id, Key: key, Project: f.Project.Key, IssueType: f.IssueType.Name, Summary: f.Summary,
		Description: desc, Labels: labels, Status: "To Do"}, descADF: f.Description, created: s.now()}
	s.order = append(s.order, key)
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusCreated, map[string]string{"id": id, "key": key, "self": s.self(r, "/rest/api/3/issue/"+id)})
}

// statusJSON is an issue status as Jira shows it, with its category (new, indeterminate, done).
func statusJSON(name string) map[string]any {
	return map[string]any{"name": name, "id": statusIDs[name], "statusCategory": map[string]string{"key": categories[name]}}
}

// get is GET /rest/api/3/issue/{issueIdOrKey} [S: getIssue]; the fields parameter narrows the
// fields returned.
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	want := map[string]bool{}
	for _, f := range strings.Split(r.URL.Query().Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" && !strings.HasPrefix(f, "*") {
			want[f] = true
		}
	}
	s.withIssue(w, r, func(is *issue) {
		sim.WriteJSON(w, http.StatusOK, map[string]any{"id": is.ID, "key": is.Key, "self": s.self(r, "/rest/api/3/issue/"+is.ID), "fields": s.fields(is, want)})
	})
}

// fields renders an issue's fields, only those in want when it is not empty. The caller holds
// s.mu.
func (s *Server) fields(is *issue, want map[string]bool) map[string]any {
	comments := make([]map[string]any, len(is.commentADFs))
	for i, c := range is.commentADFs {
		comments[i] = map[string]any{"id": strconv.Itoa(i + 1), "body": c}
	}
	atts := make([]map[string]any, len(is.Attachments))
	for i, a := range is.Attachments {
		atts[i] = map[string]any{"id": strconv.Itoa(i + 1), "filename": a.Filename, "size": len(a.Data), "mimeType": a.MimeType}
	}
	var desc any
	if len(is.descADF) > 0 {
		desc = is.descADF
	}
	all := map[string]any{
		"summary": is.Summary, "labels": slices.Clone(is.Labels), "status": statusJSON(is.Status),
		"project":     map[string]string{"key": is.Project},
		"issuetype":   map[string]string{"name": is.IssueType},
		"description": desc,
		"comment":     map[string]any{"comments": comments, "startAt": 0, "maxResults": len(comments), "total": len(comments)},
		"attachment":  atts,
		"created":     is.created.UTC().Format("2006-01-02T15:04:05.000-0700"),
	}
	if len(want) == 0 {
		return all
	}
	out := map[string]any{}
	for k := range want {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

// edit is PUT /rest/api/3/issue/{issueIdOrKey} [S: editIssue]: labels by update operations
// (add, remove, set) or by fields.labels.
func (s *Server) edit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Fields struct {
			Labels *[]string `json:"labels"`
		} `json:"fields"`
		Update struct {
			Labels []map[string]json.RawMessage `json:"labels"`
		} `json:"update"`
	}
	if !decode(w, r, &req) {
		return
	}
	s.withIssue(w, r, func(is *issue) {
		if s.denied(PermEdit) {
			fail(w, http.StatusBadRequest, "You do not have permission to edit issues in this project.")
			return
		}
		labels := slices.Clone(is.Labels)
		if req.Fields.Labels != nil {
			labels = slices.Clone(*req.Fields.Labels)
		}
		for _, op := range req.Update.Labels {
			for verb, raw := range op {
				var l string
				if verb != "set" {
					if json.Unmarshal(raw, &l) != nil {
						failFields(w, http.StatusBadRequest, nil, map[string]string{"labels": "Operation value must be a string"})
						return
					}
					if p := labelProblem(l); p != "" {
						failFields(w, http.StatusBadRequest, nil, map[string]string{"labels": p})
						return
					}
				}
				switch verb {
				case "add":
					if !slices.Contains(labels, l) {
						labels = append(labels, l)
					}
				case "remove":
					labels = slices.DeleteFunc(labels, func(x string) bool { return x == l })
				case "set":
					var set []string
					if json.Unmarshal(raw, &set) != nil {
						failFields(w, http.StatusBadRequest, nil, map[string]string{"labels": "Operation value must be an array of strings"})
						return
					}
					labels = set
				default:
					failFields(w, http.StatusBadRequest, nil, map[string]string{"labels": "Unknown operation: " + verb})
					return
				}
			}
		}
		is.Labels = labels
		w.WriteHeader(http.StatusNoContent)
	})
}

// comment is POST /rest/api/3/issue/{issueIdOrKey}/comment [S: addComment].
func (s *Server) comment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Body json.RawMessage `json:"body"`
	}
	if !decode(w, r, &req) {
		return
	}
	text, problem := s.richText(req.Body)
	if problem != "" {
		failFields(w, http.StatusBadRequest, nil, map[string]string{"comment": problem})
		return
	}
	s.withIssue(w, r, func(is *issue) {
		if s.denied(PermComment) {
			fail(w, http.StatusBadRequest, "You do not have the permission to comment on this issue.")
			return
		}
		is.Comments = append(is.Comments, text)
		is.commentADFs = append(is.commentADFs, req.Body)
		id := strconv.Itoa(len(is.Comments))
		sim.WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "self": s.self(r, "/rest/api/3/issue/"+is.ID+"/comment/"+id), "body": req.Body})
	})
}

// attach is POST /rest/api/3/issue/{issueIdOrKey}/attachments [S: addAttachment]: blocked
// without the XSRF header, multipart part "file", 413 over the size limit.
func (s *Server) attach(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Atlassian-Token") != "no-check" {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "XSRF check failed")
		return
	}
	s.mu.Lock()
	_, exists := s.lookup(r.PathValue("key"))
	s.mu.Unlock()
	switch {
	case !exists || s.denied(PermBrowse):
		fail(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	case s.denied(PermAttach):
		fail(w, http.StatusForbidden, "You do not have permission to create attachments for this issue.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxAttachment+(1<<20))
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "The attachment is larger than the maximum attachment size.")
			return
		}
		fail(w, http.StatusBadRequest, "The request is not multipart/form-data.")
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	headers := r.MultipartForm.File["file"]
	if len(headers) == 0 {
		fail(w, http.StatusBadRequest, "No file was attached in the part named 'file'.")
		return
	}
	var files []Attachment
	for _, h := range headers {
		if h.Size > s.opts.MaxAttachment {
			fail(w, http.StatusRequestEntityTooLarge, "The attachment "+h.Filename+" is larger than the maximum attachment size.")
			return
		}
		f, err := h.Open()
		if err != nil {
			fail(w, http.StatusBadRequest, "The attachment could not be read.")
			return
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			fail(w, http.StatusBadRequest, "The attachment could not be read.")
			return
		}
		mt := h.Header.Get("Content-Type")
		if mt == "" {
			mt = "application/octet-stream"
		}
		files = append(files, Attachment{Filename: h.Filename, MimeType: mt, Data: data})
	}
	s.withIssue(w, r, func(is *issue) {
		out := make([]map[string]any, 0, len(files))
		for _, a := range files {
			is.Attachments = append(is.Attachments, a)
			id := strconv.Itoa(len(is.Attachments))
			out = append(out, map[string]any{"id": id, "self": s.self(r, "/rest/api/3/attachment/"+id), "filename": a.Filename, "size": len(a.Data), "mimeType": a.MimeType})
		}
		sim.WriteJSON(w, http.StatusOK, out)
	})
}
