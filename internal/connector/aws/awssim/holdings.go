package awssim

import (
	"fmt"
)

// Holdings lists, for people, every access the user still holds: console password, access
// keys, MFA devices, SSH keys, signing certificates, service-specific credentials, group
// memberships, attached policies, inline policies that allow anything, and sessions still
// valid (issued, not expired, and not covered by a deny-everything policy). Deny-only inline
// policies and tags grant nothing and are not listed; a user that does not exist holds
// nothing. Empty means fully offboarded.
func (s *Server) Holdings(userName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(userName)
	if u == nil {
		return nil
	}
	var out []string
	if u.loginProfile != nil {
		out = append(out, "console password (login profile)")
	}
	for _, k := range u.keys {
		out = append(out, fmt.Sprintf("access key %s (%s)", k.ID, k.Status))
	}
	for _, d := range u.mfa {
		out = append(out, "MFA device "+d.serial)
	}
	for _, c := range u.ssh {
		out = append(out, fmt.Sprintf("SSH public key %s (%s)", c.ID, c.Status))
	}
	for _, c := range u.certs {
		out = append(out, fmt.Sprintf("signing certificate %s (%s)", c.ID, c.Status))
	}
	for _, c := range u.service {
		out = append(out, fmt.Sprintf("service-specific credential %s for %s (%s)", c.ID, c.Service, c.Status))
	}
	for _, g := range u.groups {
		out = append(out, "member of group "+s.groups[g].name)
	}
	for _, arn := range u.attached {
		out = append(out, "attached policy "+arn)
	}
	for _, p := range u.inline {
		if doc, err := parsePolicy(p.doc); err != nil || doc.allowsAnything() {
			out = append(out, "inline policy "+p.name)
		}
	}
	now := s.now()
	for _, sess := range u.sessions {
		if now.Before(sess.IssuedAt.Add(sess.Duration)) && !u.sessionRevoked(sess) {
			out = append(out, fmt.Sprintf("session %s issued %s, valid until %s", sess.ID, stamp(sess.IssuedAt), stamp(sess.IssuedAt.Add(sess.Duration))))
		}
	}
	return out
}

// sessionRevoked reports whether one of the user's inline policies denies everything to
// credentials issued when sess was.
func (u *user) sessionRevoked(sess Session) bool {
	for _, p := range u.inline {
		if doc, err := parsePolicy(p.doc); err == nil && doc.deniesAllIssuedAt(sess.IssuedAt) {
			return true
		}
	}
	return false
}

// Sessions reports each of the user's sessions and whether it is still valid.
func (s *Server) Sessions(userName string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(userName)
	if u == nil {
		return nil
	}
	out := make(map[string]bool, len(u.sessions))
	now := s.now()
	for _, sess := range u.sessions {
		out[sess.ID] = now.Before(sess.IssuedAt.Add(sess.Duration)) && !u.sessionRevoked(sess)
	}
	return out
}

// KeyUsable reports whether the user's access key would be accepted: it exists, is Active,
// and none of the user's inline policies denies everything to long-term keys.
func (s *Server) KeyUsable(userName, keyID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(userName)
	if u == nil {
		return false
	}
	i, aerr := u.key(keyID)
	if aerr != nil || u.keys[i].Status != "Active" {
		return false
	}
	for _, p := range u.inline {
		if doc, err := parsePolicy(p.doc); err == nil && doc.deniesLongTermKeys() {
			return false
		}
	}
	return true
}
