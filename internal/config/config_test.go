package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// env returns a LookupEnv over m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// anyEnv sets every variable to a distinct, long enough value.
func anyEnv(name string) (string, bool) { return "value-of-" + name + "-0123456789", true }

func parse(t *testing.T, src string, e map[string]string) (*Config, Problems) {
	t.Helper()
	cfg, err := Parse([]byte(src), Options{LookupEnv: env(e), BaseDir: t.TempDir()})
	if err == nil {
		return cfg, nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse returned %T %v, want Problems", err, err)
	}
	return nil, ps
}

// want is one expected problem: its path and a phrase of its message.
type want struct{ path, phrase string }

func checkProblems(t *testing.T, ps Problems, wants ...want) {
	t.Helper()
	if len(ps) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(wants), ps)
	}
	for i, w := range wants {
		if ps[i].Path != w.path || !strings.Contains(ps[i].Message, w.phrase) {
			t.Errorf("problem %d = %q, want path %q with %q", i, ps[i].String(), w.path, w.phrase)
		}
	}
}

// findProblem returns the problem at w.path, checking its message. Other problems may come
// with it, such as the fields a half-written section lacks.
func findProblem(t *testing.T, ps Problems, w want) Problem {
	t.Helper()
	for _, p := range ps {
		if p.Path == w.path {
			if !strings.Contains(p.Message, w.phrase) {
				t.Errorf("%s: %q, want %q", p.Path, p.Message, w.phrase)
			}
			return p
		}
	}
	t.Errorf("no problem at %q in %v", w.path, ps)
	return Problem{}
}

const okta = `connectors:
  okta:
    base_url: https://acme.okta.com
    token: okta-token-0123456789
`

func TestExampleParses(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(Example()), Options{LookupEnv: anyEnv})
	if err != nil {
		t.Fatalf("Example does not parse: %v", err)
	}
	if got := cfg.Connectors.Okta.Token.Reveal(); got != "value-of-OKTA_API_TOKEN-0123456789" {
		t.Errorf("okta token = %q", got)
	}
	if cfg.HR.Workday.Location().String() != "America/New_York" || cfg.HR.Workday.PollInterval != 5*time.Minute {
		t.Errorf("workday = %+v", cfg.HR.Workday)
	}
	if cfg.Ticket.Jira.Project != "SEC" || cfg.Server.Listen != "127.0.0.1:8080" || cfg.Store != DefaultStore {
		t.Errorf("config = %+v", cfg)
	}

	// Every setting is shown, set or as a commented-out line, so the example stays the
	// complete reference as settings are added.
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(Example()), &root); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				walk(item, path)
			}
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			present[p] = true
			walk(n.Content[i+1], p)
		}
	}
	walk(root.Content[0], "")
	for _, p := range settingPaths(reflect.TypeFor[Config](), "") {
		leaf := p[strings.LastIndexByte(p, '.')+1:]
		if !present[p] && !strings.Contains(Example(), "# "+leaf+":") {
			t.Errorf("Example does not show %s", p)
		}
	}
}

// settingPaths lists every setting's path, secrets' *_file twins included.
func settingPaths(t reflect.Type, path string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("yaml")
		if name == "" {
			continue
		}
		p := join(path, name)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == secretType:
			out = append(out, p, p+fileSuffix)
		case ft.Kind() == reflect.Struct:
			out = append(out, settingPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, settingPaths(ft.Elem(), p)...)
		default:
			out = append(out, p)
		}
	}
	return out
}

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"top level", "stor: sqlite://x.db\n" + okta, want{"stor", "unknown field (did you mean store?)"}},
		{"in a section", okta + "    tokn: x\n", want{"connectors.okta.tokn", "unknown field (did you mean token?)"}},
		{"unknown section", okta + "  gitlab:\n    token: x\n", want{"connectors.gitlab", "unknown field (did you mean github?)"}},
		{"deep", okta + "hr:\n  workday:\n    fields:\n      workerid: Employee_ID\n", want{"hr.workday.fields.workerid", "did you mean worker_id?"}},
		{"file twin of a non-secret", okta + "    base_url_file: /x\n", want{"connectors.okta.base_url_file", "unknown field"}},
		{"nothing close", okta + "server:\n  colour: blue\n", want{"server.colour", "unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parse(t, tt.src, nil)
			p := findProblem(t, ps, tt.want)
			if tt.name == "nothing close" && strings.Contains(p.Message, "did you mean") {
				t.Errorf("suggested a far-off key: %q", p.Message)
			}
		})
	}
}

func TestWrongTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"int", strings.Replace(okta, "token:", "concurrency: lots\n    token:", 1), want{"connectors.okta.concurrency", `"lots" is not a whole number`}},
		{"duration", okta + "hr:\n  workday:\n    poll_interval: 5 minutes\n", want{"hr.workday.poll_interval", `"5 minutes" is not a duration`}},
		{"section is a string", okta + "ticket:\n  jira: yes please\n", want{"ticket.jira", "must be a mapping of settings, not a single value"}},
		{"string is a list", strings.Replace(okta, "base_url: https://acme.okta.com", "base_url: [https://a, https://b]", 1), want{"connectors.okta.base_url", "must be a single value, not a list"}},
		{"secret is a mapping", strings.Replace(okta, "token: okta-token-0123456789", "token: {value: x}", 1), want{"connectors.okta.token", "must be a single value, not a mapping"}},
		{"whole file is a list", "- a\n- b\n", want{"", "the file must be a mapping of sections (store:, connectors:, ...), not a list"}},
		{"key is a list", okta + "? [a, b]\n: c\n", want{"", "keys must be plain names"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parse(t, tt.src, nil)
			findProblem(t, ps, tt.want)
			if tt.name == "section is a string" || tt.name == "whole file is a list" {
				// The one problem, without "required" for everything the section holds.
				checkProblems(t, ps, tt.want)
			}
		})
	}
}

func TestEveryProblemAtOnceWithPaths(t *testing.T) {
	t.Parallel()
	src := `store: mysql://db
connectors:
  okta:
    base_url: acme.okta.com
    tokn: abc
ticket:
  jira:
    base_url: https://acme.atlassian.net
    email: not-an-email
    token: ${JIRA_TOKEN}
    project: SEC
hr:
  workday:
    report_url: https://wd2.example.com/report
    username: ISU
    password: pw-0123456789
    poll_interval: 5 minutes
    time_zone: Mars/Olympus
    fields: {worker_id: Employee_ID}
server:
  listen: localhost
`
	_, ps := parse(t, src, nil)
	checkProblems(t, ps,
		want{"store", `"mysql" is not a supported store`},
		// A missing setting is reported on its section's line.
		want{"connectors.okta.token", "required (set token or token_file)"},
		want{"connectors.okta.base_url", "must be an absolute URL"},
		want{"connectors.okta.tokn", "unknown field (did you mean token?)"},
		want{"ticket.jira.email", `"not-an-email" is not an email address`},
		want{"ticket.jira.token", "environment variable JIRA_TOKEN is not set"},
		want{"hr.workday.poll_interval", `"5 minutes" is not a duration`},
		want{"hr.workday.time_zone", `"Mars/Olympus" is not an IANA time zone`},
		want{"hr.workday.fields.termination_date", "required"},
		want{"server.listen", `"localhost" is not host:port`},
	)
	text := ps.Error()
	lines := strings.Split(text, "\n")
	if lines[0] != "10 configuration problems:" || len(lines) != 11 {
		t.Fatalf("error text is not one line per problem:\n%s", text)
	}
	if lines[4] != "  connectors.okta.tokn: unknown field (did you mean token?) (line 5)" {
		t.Errorf("line for tokn = %q", lines[4])
	}
	if ps[1].Line != 3 {
		t.Errorf("missing token reported on line %d, want 3 (okta:)", ps[1].Line)
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Parallel()
	e := map[string]string{
		"OKTA_URL":   "https://acme.okta.com",
		"TOKEN":      "tok: en\n- not yaml #",
		"EMPTY":      "",
		"NESTED":     "${TOKEN}",
		"PROJECT":    "SEC",
		"POLL_EVERY": "90s",
	}
	tests := []struct {
		name  string
		token string // the token line's value
		want  string // expected token, or "" when a problem is expected
		prob  string
	}{
		{"whole value", "${TOKEN}", "tok: en\n- not yaml #", ""},
		{"inside text", "'pre-${TOKEN}-post'", "pre-tok: en\n- not yaml #-post", ""},
		{"escaped", "'$${TOKEN}-literal-0123'", "${TOKEN}-literal-0123", ""},
		{"lone dollars are literal", "'pa$$word$-0123456789'", "pa$$word$-0123456789", ""},
		{"not expanded twice", "${NESTED}", "${TOKEN}", ""},
		{"unset", "${OKTA_TOKEN}", "", "environment variable OKTA_TOKEN is not set"},
		{"two unset", "${A}${B}", "", "environment variable A is not set"},
		{"set but empty", "${EMPTY}", "", "required (set token or token_file)"},
		{"unterminated", "'${TOKEN'", "", "without a closing }"},
		{"bad name", "'${OKTA-TOKEN}'", "", "must hold an environment variable name"},
		{"empty name", "'${}'", "", "must hold an environment variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "connectors:\n  okta:\n    base_url: ${OKTA_URL}\n    token: " + tt.token + "\n"
			cfg, ps := parse(t, src, e)
			if tt.prob == "" {
				if ps != nil {
					t.Fatalf("unexpected problems: %v", ps)
				}
				if got := cfg.Connectors.Okta.Token.Reveal(); got != tt.want {
					t.Errorf("token = %q, want %q", got, tt.want)
				}
				if cfg.Connectors.Okta.BaseURL != "https://acme.okta.com" {
					t.Errorf("base_url = %q", cfg.Connectors.Okta.BaseURL)
				}
				return
			}
			if len(ps) == 0 || ps[0].Path != "connectors.okta.token" || !strings.Contains(ps[0].Message, tt.prob) {
				t.Errorf("got %v, want connectors.okta.token: %s", ps, tt.prob)
			}
		})
	}

	t.Run("typed values", func(t *testing.T) {
		t.Parallel()
		src := okta + "ticket:\n  jira:\n    base_url: https://a.atlassian.net\n    email: a@b.co\n    token: tok-0123456789\n    project: ${PROJECT}\n" +
			"hr:\n  workday:\n    report_url: https://wd.example.com/r\n    username: u\n    password: p\n    poll_interval: ${POLL_EVERY}\n    fields: {worker_id: W, termination_date: T}\n"
		cfg, ps := parse(t, src, e)
		if ps != nil {
			t.Fatal(ps)
		}
		if cfg.HR.Workday.PollInterval != 90*time.Second || cfg.Ticket.Jira.Project != "SEC" {
			t.Errorf("poll = %v, project = %q", cfg.HR.Workday.PollInterval, cfg.Ticket.Jira.Project)
		}
	})
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "okta.token"), []byte("from-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	src := "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token_file: okta.token\n"
	if err := os.WriteFile(good, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Connectors.Okta.Token.Reveal(); got != "from-file-0123456789" {
		t.Errorf("token_file relative to the config's directory gave %q", got)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(src+"    tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || !strings.HasPrefix(err.Error(), bad+": 1 configuration problem:\n") {
		t.Errorf("Load(bad) = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || errors.As(err, &ps) {
		t.Errorf("Load of a missing file = %v, want a read error", err)
	}
}

func TestYAMLStructure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		wants []want
	}{
		{"not YAML", "connectors:\n\tokta: {}\n", []want{{"", "not valid YAML"}}},
		{"duplicate key", okta + "    base_url: https://other.okta.com\n", []want{{"connectors.okta.base_url", "set twice (first on line 3)"}}},
		{"two documents", okta + "---\nstore: sqlite://x.db\n", []want{{"", "more than one YAML document"}}},
		{"two documents, and more", "connectors:\n  okta:\n---\nstore: sqlite://x.db\n", []want{
			{"connectors.okta.base_url", "required"}, {"connectors.okta.token", "required"}, {"", "more than one YAML document"},
		}},
		{"empty file", "", []want{{"connectors", "no system is configured; add at least one (okta, github, aws"}}},
		{"only comments", "# nothing yet\n", []want{{"connectors", "no system is configured"}}},
		{"no connectors", "store: sqlite://x.db\n", []want{{"connectors", "no system is configured"}}},
		{"empty section is switched on", okta + "ticket:\n  jira:\n", []want{
			{"ticket.jira.base_url", "required"}, {"ticket.jira.email", "required"},
			{"ticket.jira.token", "required (set token or token_file)"}, {"ticket.jira.project", "required"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parse(t, tt.src, nil)
			checkProblems(t, ps, tt.wants...)
		})
	}

	t.Run("anchors and merge keys", func(t *testing.T) {
		t.Parallel()
		src := "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token: tok-0123456789\n" +
			"ticket:\n  jira:\n    <<: {base_url: https://a.atlassian.net, project: OLD}\n    email: a@b.co\n    token: tok-0123456789\n    project: SEC\n" +
			"server:\n  api_token: &t tok-0123456789abcdef\n" +
			"hr:\n  webhook:\n    secret: *t\n"
		cfg, ps := parse(t, src, nil)
		if ps != nil {
			t.Fatal(ps)
		}
		if cfg.Ticket.Jira.BaseURL != "https://a.atlassian.net" || cfg.Ticket.Jira.Project != "SEC" {
			t.Errorf("merge: %+v", cfg.Ticket.Jira)
		}
		if cfg.HR.Webhook.Secret.Reveal() != "tok-0123456789abcdef" {
			t.Error("alias not followed")
		}
	})
}

func TestConfigPrintsNoSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(Example()), Options{LookupEnv: anyEnv})
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %+v %+v", cfg, *cfg, *cfg, *cfg.Connectors.Okta, *cfg.HR.Webhook)
	if strings.Contains(out, "value-of-") {
		t.Errorf("printing the configuration shows a secret: %s", out)
	}
}
