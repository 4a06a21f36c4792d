package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConnectorProblems covers the checks that keep a connector section from starting with a
// setting it would misuse at the first termination.
func TestConnectorProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		wants []want
	}{
		{"github needs an org and a token", "connectors:\n  github:\n    base_url: api.github.com\n", []want{
			{"connectors.github.org", "required"}, {"connectors.github.token", "required (set token or token_file)"},
			{"connectors.github.base_url", "must be an absolute URL"},
		}},
		{"aws keys go in pairs", "connectors:\n  aws:\n    access_key_id: AKIAEXAMPLE\n    user_name: login\n", []want{
			{"connectors.aws.access_key_id", "go together"}, {"connectors.aws.user_name", `"login" is not one of email, email_local`},
		}},
		{"aws default chain needs no keys", "connectors:\n  aws:\n    match_tag: email\n", nil},
		{"jenkins mode", "connectors:\n  jenkins:\n    base_url: https://ci.example.com\n    username: bot\n    api_token: t\n    mode: remove\n", []want{
			{"connectors.jenkins.mode", `"remove" is not one of disable, delete`},
		}},
		{"bool must be a bool", "connectors:\n  slack:\n    token: x\n    enterprise_grid: yes-please\n", []want{
			{"connectors.slack.enterprise_grid", "is not true or false"},
		}},
		{"list sections must be lists", "connectors:\n  scim:\n    name: zoom\n", []want{
			{"connectors.scim", "must be a list"},
		}},
		{"instances need distinct plain names", "connectors:\n  scim:\n    - name: zoom\n      base_url: https://zoom.example/scim\n      token: t\n    - name: zoom\n      base_url: https://zoom2.example/scim\n      token: t\n" +
			"    - name: Okta Apps\n      base_url: https://x.example\n      token: t\n  webhook:\n    - name: github\n      url: https://tool.example\n      secret: 0123456789abcdef0\n", []want{
			{"connectors.scim[1].name", `"zoom" is already the name of connectors.scim[0].name`},
			{"connectors.scim[2].name", "lower-case letters"},
			{"connectors.webhook[0].name", "built-in system"},
		}},
		{"a filter without a placeholder matches everyone", "connectors:\n  scim:\n    - name: zoom\n      base_url: https://zoom.example/scim\n      token: t\n      user_filter: active eq true\n      deprovision: wipe\n", []want{
			{"connectors.scim[0].user_filter", "no placeholder"}, {"connectors.scim[0].deprovision", "not one of deactivate, delete"},
		}},
		{"webhook secrets are chosen, so long", "connectors:\n  webhook:\n    - name: billing\n      url: https://billing.example/offboard\n      secret: short\n", []want{
			{"connectors.webhook[0].secret", "shorter than 16"},
		}},
		{"database instances", "connectors:\n  postgres:\n    - name: payments\n      role: nickname\n  mysql:\n    - name: payments\n      dsn: root@tcp(db)/x\n", []want{
			{"connectors.postgres[0].dsn", "required"}, {"connectors.postgres[0].role", "not one of"},
			{"connectors.mysql[0].name", "already the name of connectors.postgres[0].name"},
		}},
		{"ldap", "connectors:\n  ldap:\n    url: ldaps://ldap.example:636\n    start_tls: true\n    bind_dn: cn=x\n    bind_password: p\n    base_dn: dc=x\n    flavor: ad\n    disabled_ou: ou=gone,dc=x\n", []want{
			{"connectors.ldap.start_tls", "already encrypted"}, {"connectors.ldap.flavor", "userAccountControl"},
		}},
		{"ldap needs a directory URL", "connectors:\n  ldap:\n    url: https://ldap.example\n    bind_dn: cn=x\n    bind_password: p\n    base_dn: dc=x\n    disable_attribute: pwdAccountLockedTime\n", []want{
			{"connectors.ldap.url", "must start with ldaps://"}, {"connectors.ldap.disable_attribute", "go together"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parse(t, tt.src, nil)
			if len(tt.wants) == 0 {
				if ps != nil {
					t.Fatalf("unexpected problems: %v", ps)
				}
				return
			}
			checkProblems(t, ps, tt.wants...)
		})
	}
}

func TestListSectionsDecode(t *testing.T) {
	t.Parallel()
	src := "connectors:\n  scim:\n    - name: zoom\n      base_url: https://zoom.example/scim\n      token: zoom-token\n" +
		"    - name: figma\n      base_url: https://figma.example/scim/v2\n      token: figma-token\n      deprovision: delete\n"
	cfg, ps := parse(t, src, nil)
	if ps != nil {
		t.Fatal(ps)
	}
	if len(cfg.Connectors.SCIM) != 2 || cfg.Connectors.SCIM[1].Name != "figma" || cfg.Connectors.SCIM[1].Deprovision != "delete" || cfg.Connectors.SCIM[0].Token.Reveal() != "zoom-token" {
		t.Errorf("scim = %+v", cfg.Connectors.SCIM)
	}
}

// TestDocsShowTheExample keeps docs/configuration.md's reference identical to Example().
func TestDocsShowTheExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+Example()+"```") {
		t.Error("docs/configuration.md does not show config.Example() verbatim; paste it in again")
	}
}
