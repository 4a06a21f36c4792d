package config

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/internal/secret"
)

func TestSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("lf", "secret-from-file-1\n")
	write("crlf", "secret-from-file-2\r\n")
	write("two-newlines", "secret-from-file-3\n\n")
	write("none", "secret-from-file-4")
	write("empty", "\n")
	write("big", strings.Repeat("x", maxSecretFile+1))
	if err := os.Mkdir(filepath.Join(dir, "a-dir"), 0o700); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		lines string // under connectors.okta, after base_url
		want  string
		prob  want
	}{
		{"trailing newline trimmed", "token_file: lf", "secret-from-file-1", want{}},
		{"trailing CRLF trimmed", "token_file: crlf", "secret-from-file-2", want{}},
		{"only one newline trimmed", "token_file: two-newlines", "secret-from-file-3\n", want{}},
		{"no newline", "token_file: none", "secret-from-file-4", want{}},
		{"absolute path", "token_file: " + filepath.Join(dir, "lf"), "secret-from-file-1", want{}},
		{"path from the environment", "token_file: ${SECRETS}/lf", "secret-from-file-1", want{}},
		{"both set", "token: inline-0123456789\n    token_file: lf", "", want{"connectors.okta.token_file", "both token and token_file are set; keep one"}},
		{"both set, file first", "token_file: lf\n    token: inline-0123456789", "", want{"connectors.okta.token_file", "both token and token_file are set"}},
		{"missing file", "token_file: nope", "", want{"connectors.okta.token_file", "cannot read " + filepath.Join(dir, "nope") + ": no such file or directory"}},
		{"path through a file", "token_file: lf/x", "", want{"connectors.okta.token_file", "cannot read " + filepath.Join(dir, "lf", "x") + ": not a directory"}},
		{"directory", "token_file: a-dir", "", want{"connectors.okta.token_file", "not a regular file"}},
		{"empty file", "token_file: empty", "", want{"connectors.okta.token_file", filepath.Join(dir, "empty") + " is empty"}},
		{"huge file", "token_file: big", "", want{"connectors.okta.token_file", "larger than 64 KiB"}},
		{"empty path", "token_file: ''", "", want{"connectors.okta.token_file", "is empty; name the file"}},
		{"unset variable in path", "token_file: ${NOPE}/lf", "", want{"connectors.okta.token_file", "environment variable NOPE is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    " + tt.lines + "\n"
			cfg, err := Parse([]byte(src), Options{LookupEnv: env(map[string]string{"SECRETS": dir}), BaseDir: dir})
			if tt.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := cfg.Connectors.Okta.Token.Reveal(); got != tt.want {
					t.Errorf("token = %q, want %q", got, tt.want)
				}
				return
			}
			ps, ok := err.(Problems)
			if !ok {
				t.Fatalf("err = %v", err)
			}
			// Only the file's problem: no "required" piled on top.
			checkProblems(t, ps, tt.prob)
		})
	}

	t.Run("unreadable file", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" || os.Geteuid() == 0 {
			t.Skip("permissions do not stop root from reading")
		}
		p := filepath.Join(t.TempDir(), "locked")
		if err := os.WriteFile(p, []byte("locked-secret-0123"), 0o000); err != nil {
			t.Fatal(err)
		}
		_, ps := parse(t, "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token_file: "+p+"\n", nil)
		checkProblems(t, ps, want{"connectors.okta.token_file", "permission denied"})
	})
}

func TestMissingSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"okta token", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n", want{"connectors.okta.token", "required (set token or token_file)"}},
		{"okta token null", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token:\n", want{"connectors.okta.token", "required (set token or token_file)"}},
		{"jira token", okta + "ticket:\n  jira:\n    base_url: https://a.atlassian.net\n    email: a@b.co\n    project: SEC\n", want{"ticket.jira.token", "required (set token or token_file)"}},
		{"workday password", okta + "hr:\n  workday:\n    report_url: https://wd.example.com/r\n    username: u\n    fields: {worker_id: W, termination_date: T}\n", want{"hr.workday.password", "required (set password or password_file)"}},
		{"webhook secret", okta + "hr:\n  webhook:\n    previous_secret: prev-0123456789abcdef\n", want{"hr.webhook.secret", "required (set secret or secret_file)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parse(t, tt.src, nil)
			checkProblems(t, ps, tt.want)
		})
	}

	t.Run("optional secrets may be absent", func(t *testing.T) {
		t.Parallel()
		cfg, ps := parse(t, okta+"hr:\n  webhook:\n    secret: s-0123456789abcdef\nserver:\n  listen: 127.0.0.1:8080\n", nil)
		if ps != nil {
			t.Fatal(ps)
		}
		if !cfg.Server.APIToken.IsZero() || !cfg.HR.Webhook.PreviousSecret.IsZero() {
			t.Error("absent optional secrets are set")
		}
	})
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	src := okta + `ticket:
  jira:
    base_url: https://a.atlassian.net
    email: a@b.co
    token: tok-0123456789
    project: SEC
hr:
  workday:
    report_url: https://wd.example.com/r
    username: u
    password: pw
    fields: {worker_id: W, termination_date: T}
`
	cfg, ps := parse(t, src, nil)
	if ps != nil {
		t.Fatal(ps)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"store", cfg.Store, "sqlite://offboard.db"},
		{"listen", cfg.Server.Listen, "127.0.0.1:8080"},
		{"issue type", cfg.Ticket.Jira.IssueType, "Task"},
		{"done transition", cfg.Ticket.Jira.DoneTransition, "Done"},
		{"poll interval", cfg.HR.Workday.PollInterval, 5 * time.Minute},
		{"time zone", cfg.HR.Workday.TimeZone, "UTC"},
		{"location", cfg.HR.Workday.Location(), time.UTC},
		{"concurrency left to the connector", cfg.Connectors.Okta.Concurrency, 0},
		{"no webhook", cfg.HR.Webhook == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	workday := func(lines string) string {
		return okta + "hr:\n  workday:\n    report_url: https://wd.example.com/r\n    username: u\n    password: pw\n    fields: {worker_id: W, termination_date: T}\n    " + lines + "\n"
	}
	jira := func(field, value string) string {
		m := map[string]string{"base_url": "https://a.atlassian.net", "email": "a@b.co", "token": "tok-0123456789", "project": "SEC"}
		m[field] = value
		s := okta + "ticket:\n  jira:\n"
		for _, k := range []string{"base_url", "email", "token", "project"} {
			s += "    " + k + ": " + m[k] + "\n"
		}
		return s
	}
	withOkta := func(field, value string) string {
		return "connectors:\n  okta:\n    token: tok-0123456789\n    " + field + ": " + value + "\n" +
			map[bool]string{true: "", false: "    base_url: https://acme.okta.com\n"}[field == "base_url"]
	}
	tests := []struct {
		name string
		src  string
		want *want // nil: valid
	}{
		{"http URL allowed for simulators", withOkta("base_url", "http://127.0.0.1:9000"), nil},
		{"http URL allowed on localhost", withOkta("base_url", "http://localhost:9000/okta"), nil},
		{"http URL refused beyond loopback", withOkta("base_url", "http://acme.okta.com"), &want{"connectors.okta.base_url", "http is accepted only for a loopback address"}},
		{"URL without scheme", withOkta("base_url", "acme.okta.com"), &want{"connectors.okta.base_url", "must be an absolute URL"}},
		{"URL with other scheme", withOkta("base_url", "ftp://acme.okta.com"), &want{"connectors.okta.base_url", `not "ftp"`}},
		{"URL without host", withOkta("base_url", "https:///path"), &want{"connectors.okta.base_url", "must name a host"}},
		{"URL with credentials", withOkta("base_url", "https://u:p@acme.okta.com"), &want{"connectors.okta.base_url", "must not carry a user name or password"}},
		{"URL unparsable", withOkta("base_url", "'https://acme.okta.com/%zz'"), &want{"connectors.okta.base_url", "is not a valid URL"}},
		{"concurrency too high", withOkta("concurrency", "200"), &want{"connectors.okta.concurrency", "between 1 and 75"}},
		{"concurrency negative", withOkta("concurrency", "-1"), &want{"connectors.okta.concurrency", "between 1 and 75"}},
		{"email with display name", jira("email", "'Bot <bot@acme.com>'"), &want{"ticket.jira.email", "is not an email address"}},
		{"email without domain", jira("email", "bot"), &want{"ticket.jira.email", `"bot" is not an email address`}},
		{"project with spaces", jira("project", "'SEC OPS'"), &want{"ticket.jira.project", "without spaces"}},
		{"report URL relative", strings.Replace(workday(""), "https://wd.example.com/r", "/ccx/service/customreport2/acme/r", 1), &want{"hr.workday.report_url", "must be an absolute URL"}},
		{"poll interval floor", workday("poll_interval: 5s"), &want{"hr.workday.poll_interval", "at least 10s"}},
		{"poll interval zero", workday("poll_interval: 0s"), &want{"hr.workday.poll_interval", "at least 10s"}},
		{"poll interval at the floor", workday("poll_interval: 10s"), nil},
		{"time zone unknown", workday("time_zone: Europe/Atlantis"), &want{"hr.workday.time_zone", `"Europe/Atlantis" is not an IANA time zone`}},
		{"time zone Local", workday("time_zone: Local"), &want{"hr.workday.time_zone", "depends on the machine"}},
		{"time zone valid", workday("time_zone: Europe/Berlin"), nil},
		{"worker_id required", strings.Replace(workday(""), "worker_id: W, ", "", 1), &want{"hr.workday.fields.worker_id", "required"}},
		{"webhook secret too short", okta + "hr:\n  webhook:\n    secret: short-secret\n", &want{"hr.webhook.secret", "shorter than 16"}},
		{"previous secret too short", okta + "hr:\n  webhook:\n    secret: s-0123456789abcdef\n    previous_secret: short-secret\n", &want{"hr.webhook.previous_secret", "shorter than 16"}},
		{"api token too short", okta + "server:\n  api_token: short-token\n", &want{"server.api_token", "shorter than 16"}},
		{"listen without port", okta + "server:\n  listen: 127.0.0.1\n", &want{"server.listen", "is not host:port"}},
		{"listen with bad port", okta + "server:\n  listen: 127.0.0.1:99999\n", &want{"server.listen", "is not host:port"}},
		{"listen on every interface with a token", okta + "server:\n  listen: :8080\n  api_token: t-0123456789abcdef\n", nil},
		{"listen on every interface without a token", okta + "server:\n  listen: :8080\n", &want{"server.api_token", "reachable from other machines"}},
		{"listen on localhost without a token", okta + "server:\n  listen: localhost:8080\n", nil},
		{"store sqlite absolute", "store: sqlite:///var/lib/offboard/offboard.db\n" + okta, nil},
		{"store sqlite short form", "store: sqlite:offboard.db\n" + okta, nil},
		{"store sqlite with options", "store: sqlite://offboard.db?_pragma=busy_timeout(5000)\n" + okta, nil},
		{"store postgres", "store: postgres://offboard@db:5432/offboard?sslmode=verify-full\n" + okta, nil},
		{"store postgresql", "store: postgresql://offboard@db/offboard\n" + okta, nil},
		{"store memory", "store: 'sqlite://:memory:'\n" + okta, &want{"store", "in-memory database loses every case"}},
		{"store memory mode", "store: sqlite://file.db?mode=memory\n" + okta, &want{"store", "in-memory"}},
		{"store without path", "store: 'sqlite://'\n" + okta, &want{"store", "names no database file"}},
		{"store bare path", "store: offboard.db\n" + okta, &want{"store", "must be sqlite://<path> or postgres://"}},
		{"store other scheme", "store: mysql://u:hunter2-password@db/x\n" + okta, &want{"store", `"mysql" is not a supported store`}},
		{"store postgres unparsable", "store: 'postgres://u:p@db:port/x'\n" + okta, &want{"store", "is not a valid PostgreSQL URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parse(t, tt.src, nil)
			if tt.want == nil {
				if ps != nil {
					t.Fatalf("valid configuration rejected: %v", ps)
				}
				return
			}
			checkProblems(t, ps, *tt.want)
		})
	}
}

// TestNoSecretInProblems puts secrets where they do not belong and checks that no problem
// text shows them.
func TestNoSecretInProblems(t *testing.T) {
	t.Parallel()
	const s = "zq-DISTINCTIVE-secret-8817"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jira"), []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  string
	}{
		{"secret pasted into a duration", okta + "hr:\n  workday:\n    password: ${S}\n    poll_interval: ${S}\n"},
		{"secret pasted into a number", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token: ${S}\n    concurrency: ${S}\n"},
		{"secret pasted into an email", okta + "ticket:\n  jira:\n    email: ${S}\n    token_file: jira\n"},
		{"secret pasted into a URL", "connectors:\n  okta:\n    base_url: " + s + "\n"},
		{"secret pasted into a time zone", okta + "hr:\n  webhook:\n    secret: ${S}\n  workday:\n    time_zone: ${S}\n"},
		{"secret pasted into listen", okta + "server:\n  api_token: ${S}\n  listen: ${S}\n"},
		{"secret under a misspelt key", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    tokn: " + s + "\n"},
		{"secret with a wrong type", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token: [" + s + "]\n"},
		{"secret with a bad reference", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token: '" + s + "${oops'\n"},
		{"secret and its file both set", "connectors:\n  okta:\n    base_url: https://acme.okta.com\n    token: " + s + "\n" + "    token_file: jira\n"},
		{"secret in a short webhook secret", okta + "hr:\n  webhook:\n    secret: " + s[:12] + "\n"},
		{"secret in a PostgreSQL URL", "store: 'postgres://u:" + s + "@db:port/x'\n" + okta},
		{"secret in another store URL", "store: 'mysql://u:" + s + "@db/x'\n" + okta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.src), Options{LookupEnv: env(map[string]string{"S": s}), BaseDir: dir})
			if err == nil {
				t.Fatal("expected problems")
			}
			if text := err.Error(); strings.Contains(text, "DISTINCTI") {
				t.Errorf("problem text shows the secret:\n%s", text)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(Example()), Options{LookupEnv: anyEnv})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = "postgres://offboard:db-password-123@db:5432/offboard?password=query-password-456"
	got := cfg.Secrets()
	want := []string{
		"value-of-OKTA_API_TOKEN-0123456789", "value-of-GITHUB_TOKEN-0123456789",
		"value-of-AWS_SECRET_ACCESS_KEY-0123456789", "value-of-DOCKERHUB_ORG_TOKEN-0123456789",
		"value-of-JENKINS_API_TOKEN-0123456789", "value-of-ZOOM_SCIM_TOKEN-0123456789",
		"value-of-GOOGLE_SA_JSON-0123456789", "value-of-ENTRA_CLIENT_SECRET-0123456789",
		"value-of-SLACK_ADMIN_TOKEN-0123456789", "value-of-BILLING_ADMIN_WEBHOOK_SECRET-0123456789",
		"value-of-LDAP_BIND_PASSWORD-0123456789", "value-of-PAYMENTS_DB_DSN-0123456789",
		"value-of-ANALYTICS_DB_DSN-0123456789", "value-of-JIRA_API_TOKEN-0123456789",
		"value-of-WORKDAY_PASSWORD-0123456789", "value-of-OFFBOARD_WEBHOOK_SECRET-0123456789",
		"value-of-OFFBOARD_API_TOKEN-0123456789", "db-password-123", "query-password-456",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Secrets() = %q, want %q", got, want)
	}

	// A database DSN's password is a secret of its own: a driver's error may quote it
	// without the rest of the DSN.
	cfg.Connectors.Postgres[0].DSN = secret.New("postgres://offboard:pg-dsn-password-789@db:5432/payments")
	cfg.Connectors.MySQL[0].DSN = secret.New("offboard:my-dsn-password-012@tcp(db:3306)/analytics")
	got = cfg.Secrets()
	for _, s := range []string{"pg-dsn-password-789", "my-dsn-password-012"} {
		if !slices.Contains(got, s) {
			t.Errorf("Secrets() lacks the DSN password %q: %q", s, got)
		}
	}
}
