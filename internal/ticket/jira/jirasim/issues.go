package jirasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/offboard-dev/offboard/internal/sim"
)

// adfText checks that v is an ADF document ({"type":"doc","version":1,"content":[...]}) and
// returns its text. The v3 API refuses plain strings for rich-text fields.
func adfText(raw json.RawMessage) (string, bool) {
	var doc struct {
		Type    string            `json:"type"`
		Version int               `json:"version"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.Type != "doc" || doc.Version != 1 {
		return "", false
	}
	var b strings.Builder
	var walk func(json.RawMessage) bool
	walk = func(n json.RawMessage) bool {
		var node struct {
			Type    string            `json:"type"`
			Text    *string           `json:"text"`
			Content []json.RawMessage `json:"content"`
		}
		if json.Unmarshal(n, &node) != nil || node.Type == "" {
			return false
		}
		if node.Type == "text" {
			if node.Text == nil || *node.Text == "" {
				return false // ADF forbids empty text nodes
			}
			b.WriteString(*node.Text)
		}
		for _, c := range node.Content {
			if !walk(c) {
				return false
			}
		}
		switch node.Type {
		case "paragraph", "heading", "tableRow":
			b.WriteString("\n")
		case "tableCell", "tableHeader":
			b.WriteString(" | ")
		}
		return true
	}
	for _, c := range doc.Content {
		if !walk(c) {
			return "", false
		}
	}
	return b.String(), true
}

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
	if err := decode(r, &req); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	f := req.Fields
	problems := map[string]string{}
	if !slices.Contains(s.opts.Projects, f.Project.Key) {
		problems["project"] = "valid project is required"
	}
	if !slices.Contains(s.opts.IssueTypes, f.IssueType.Name) {
		problems["issuetype"] = "Specify a valid issue type"
	}
	if strings.TrimSpace(f.Summary) == "" {
		problems["summary"] = "You must specify a summary of the issue."
	}
	desc := ""
	if len(f.Description) > 0 && string(f.Description) != "null" {
		text, ok := adfText(f.Description)
		if !ok {
			problems["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
		}
		desc = text
	}
	for _, l := range f.Labels {
		if strings.ContainsAny(l, " \t") {
			problems["labels"] = "The label '" + l + "' contains spaces which is invalid."
		}
	}
	if len(problems) > 0 {
		failFields(w, http.StatusBadRequest, nil, problems)
		return
	}
	s.mu.Lock()
	s.seq[f.Project.Key]++
	key := fmt.Sprintf("%s-%d", f.Project.Key, s.seq[f.Project.Key])
	s.issues[key] = &Issue{Key: key, Project: f.Project.Key, Summary: f.Summary, Description: desc, Labels: slices.Clone(f.Labels), Status: "To Do"}
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusCreated, map[string]string{"id": strings.TrimPrefix(key, f.Project.Key+"-"), "key": key, "self": "/rest/api/3/issue/" + key})
}

// withIssue runs fn on the issue named in the path under the lock, or answers 404.
func (s *Server) withIssue(w http.ResponseWriter, r *http.Request, fn func(*Issue)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[r.PathValue("key")]
	if !ok {
		fail(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	fn(is)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.withIssue(w, r, func(is *Issue) {
		comments := make([]map[string]any, len(is.Comments))
		for i, c := range is.Comments {
			comments[i] = map[string]any{"id": fmt.Sprint(i + 1), "renderedBody": c}
		}
		atts := make([]map[string]any, len(is.Attachments))
		for i, a := range is.Attachments {
			atts[i] = map[string]any{"id": fmt.Sprint(i + 1), "filename": a.Filename, "size": len(a.Data)}
		}
		category := "new"
		switch is.Status {
		case "In Progress":
			category = "indeterminate"
		case "Done":
			category = "done"
		}
		labels := is.Labels
		if labels == nil {
			labels = []string{}
		}
		sim.WriteJSON(w, http.StatusOK, map[string]any{"key": is.Key, "fields": map[string]any{
			"summary": is.Summary, "labels": labels,
			"status":     map[string]any{"name": is.Status, "statusCategory": map[string]string{"key": category}},
			"comment":    map[string]any{"comments": comments, "total": len(comments)},
			"attachment": atts,
		}})
	})
}

func (s *Server) edit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Update struct {
			Labels []map[string]string `json:"labels"`
		} `json:"update"`
	}
	if err := decode(r, &req); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	s.withIssue(w, r, func(is *Issue) {
		for _, op := range req.Update.Labels {
			if l, ok := op["add"]; ok && !slices.Contains(is.Labels, l) {
				is.Labels = append(is.Labels, l)
			}
			if l, ok := op["remove"]; ok {
				is.Labels = slices.DeleteFunc(is.Labels, func(x string) bool { return x == l })
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Body json.RawMessage `json:"body"`
	}
	if err := decode(r, &req); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	text, ok := adfText(req.Body)
	if !ok {
		failFields(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body must be an Atlassian Document"})
		return
	}
	s.withIssue(w, r, func(is *Issue) {
		is.Comments = append(is.Comments, text)
		sim.WriteJSON(w, http.StatusCreated, map[string]any{"id": fmt.Sprint(len(is.Comments))})
	})
}

func (s *Server) transitions(w http.ResponseWriter, r *http.Request) {
	s.withIssue(w, r, func(is *Issue) {
		var list []map[string]any
		for _, t := range workflow[is.Status] {
			list = append(list, map[string]any{"id": t.ID, "name": t.Name, "to": map[string]string{"name": t.To}})
		}
		sim.WriteJSON(w, http.StatusOK, map[string]any{"transitions": list})
	})
}

func (s *Server) doTransition(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Transition struct{ ID string } `json:"transition"`
	}
	if err := decode(r, &req); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	s.withIssue(w, r, func(is *Issue) {
		for _, t := range workflow[is.Status] {
			if t.ID == req.Transition.ID {
				is.Status = t.To
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		fail(w, http.StatusBadRequest, "Transition id '"+req.Transition.ID+"' is not valid for this issue.")
	})
}

func (s *Server) attach(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Atlassian-Token") != "no-check" {
		fail(w, http.StatusForbidden, "XSRF check failed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxAttachment+1<<20)
	file, header, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "The attachment is too large.")
			return
		}
		fail(w, http.StatusBadRequest, "No file was attached in the part named 'file'.")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, s.opts.MaxAttachment+1))
	if err != nil || int64(len(data)) > s.opts.MaxAttachment {
		fail(w, http.StatusRequestEntityTooLarge, "The attachment is too large.")
		return
	}
	s.withIssue(w, r, func(is *Issue) {
		is.Attachments = append(is.Attachments, Attachment{Filename: header.Filename, Data: data})
		sim.WriteJSON(w, http.StatusOK, []map[string]any{{"id": fmt.Sprint(len(is.Attachments)), "filename": header.Filename, "size": len(data)}})
	})
}

func (s *Server) myself(w http.ResponseWriter, _ *http.Request) {
	sim.WriteJSON(w, http.StatusOK, map[string]any{"accountId": "5b10a2844c20165700ede21g", "emailAddress": s.opts.Email, "active": true})
}

func (s *Server) project(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !slices.Contains(s.opts.Projects, key) {
		fail(w, http.StatusNotFound, "No project could be found with key '"+key+"'.")
		return
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"key": key, "name": key})
}
