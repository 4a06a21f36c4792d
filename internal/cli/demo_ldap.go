package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/offboard-dev/offboard/internal/config"
	"github.com/offboard-dev/offboard/internal/connector/ldap/slapd"
	"github.com/offboard-dev/offboard/internal/secret"
)

// demoLDAP is a throwaway OpenLDAP directory for the demo (--slapd), started from Debian's
// slapd, holding the leaver and two colleagues in three kinds of group.
type demoLDAP struct {
	enabled bool
	srv     *slapd.Server
}

// The demo directory's layout.
const (
	ldapPeople   = "ou=people," + slapd.Suffix
	ldapGroups   = "ou=groups," + slapd.Suffix
	ldapDisabled = "ou=disabled," + slapd.Suffix
	ldapLeaver   = "dana.whitfield"
)

// seed starts slapd in dir, seeds it and adds the directory to cfg.
func (d *demoLDAP) seed(ctx context.Context, dir string, cfg *config.Config) error {
	if !d.enabled {
		return nil
	}
	if err := slapd.Installed(); err != nil {
		return fmt.Errorf("demo --slapd: %w", err)
	}
	sub := filepath.Join(dir, "slapd")
	if err := os.Mkdir(sub, 0o700); err != nil {
		return err
	}
	srv, err := slapd.Launch(sub)
	if err != nil {
		return fmt.Errorf("demo --slapd: %w", err)
	}
	d.srv = srv
	ou := func(name string) slapd.Entry {
		return slapd.Entry{DN: "ou=" + name + "," + slapd.Suffix, Attrs: map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {name}}}
	}
	person := func(uid, mail, cn string) slapd.Entry {
		return slapd.Entry{DN: "uid=" + uid + "," + ldapPeople, Attrs: map[string][]string{
			"objectClass": {"inetOrgPerson"}, "uid": {uid}, "mail": {mail}, "cn": {cn}, "sn": {cn}, "userPassword": {"demo-" + uid}}}
	}
	dana, priya := "uid=dana.whitfield,"+ldapPeople, "uid=priya.raman,"+ldapPeople
	err = srv.Add(ctx, ou("people"), ou("groups"), ou("disabled"),
		person("dana.whitfield", "dana.whitfield@acme.example", "Dana Whitfield"),
		person("priya.raman", "priya.raman@acme.example", "Priya Raman"),
		slapd.Entry{DN: "cn=engineering," + ldapGroups, Attrs: map[string][]string{"objectClass": {"groupOfNames"}, "cn": {"engineering"}, "member": {dana, priya}}},
		slapd.Entry{DN: "cn=release-managers," + ldapGroups, Attrs: map[string][]string{"objectClass": {"groupOfUniqueNames"}, "cn": {"release-managers"}, "uniqueMember": {dana, priya}}},
		slapd.Entry{DN: "cn=vpn," + ldapGroups, Attrs: map[string][]string{"objectClass": {"posixGroup"}, "cn": {"vpn"}, "gidNumber": {"5001"}, "memberUid": {"dana.whitfield", "priya.raman"}}},
	)
	if err != nil {
		return fmt.Errorf("demo --slapd: seed the directory: %w", err)
	}
	l := &config.LDAP{URL: srv.URL, StartTLS: true, CAFile: srv.CAFile, BindDN: slapd.WriterDN, BindPassword: secret.New(slapd.WriterPW),
		BaseDN: ldapPeople, GroupBaseDN: ldapGroups}
	if !srv.PPolicy {
		l.DisabledOU = ldapDisabled // without the ppolicy overlay there is no lock attribute
	}
	cfg.Connectors.LDAP = l
	return nil
}

// print reads the directory and shows what the leaver still holds there.
func (d *demoLDAP) print(ctx context.Context, out io.Writer) {
	if d.srv == nil {
		return
	}
	held, err := d.holdings(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(out, "  %-13s could not read the directory: %v\n", "ldap", err)
	case len(held) == 0:
		fmt.Fprintf(out, "  %-13s nothing (account locked, in no group)\n", "ldap")
	default:
		for _, h := range held {
			fmt.Fprintf(out, "  %-13s %s\n", "ldap", h)
		}
	}
}

func (d *demoLDAP) holdings(ctx context.Context) ([]string, error) {
	c, err := d.srv.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []string
	people, err := c.Search(goldap.NewSearchRequest(slapd.Suffix, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(uid="+ldapLeaver+")", []string{"pwdAccountLockedTime"}, nil))
	if err != nil {
		return nil, err
	}
	var dns []string
	for _, e := range people.Entries {
		dns = append(dns, e.DN)
		locked := e.GetAttributeValue("pwdAccountLockedTime") != ""
		if !locked && !strings.HasSuffix(e.DN, ","+ldapDisabled) {
			out = append(out, "account "+e.DN+" can sign in")
		}
	}
	filter := "(memberUid=" + ldapLeaver + ")"
	for _, dn := range dns {
		filter += "(member=" + goldap.EscapeFilter(dn) + ")(uniqueMember=" + goldap.EscapeFilter(dn) + ")"
	}
	groups, err := c.Search(goldap.NewSearchRequest(ldapGroups, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(|"+filter+")", []string{"cn"}, nil))
	if err != nil {
		return nil, err
	}
	for _, g := range groups.Entries {
		out = append(out, "member of "+g.DN)
	}
	return out, nil
}

func (d *demoLDAP) close() {
	if d.srv != nil {
		d.srv.Stop()
	}
}
