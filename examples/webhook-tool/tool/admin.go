package tool

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The kinds of action this tool plans. offboard stores plans, so once a kind has been used
// its name must not change.
const (
	KindRevokeAPIKey   = "revoke_api_key"
	KindRemoveRole     = "remove_role"
	KindDisableAccount = "disable_account"
)

// Admin is the example's internal admin tool: accounts with roles and API keys, in memory.
// Replace its Plan, Apply and Verify with reads and writes of your own tool. All methods are
// safe for concurrent use.
type Admin struct {
	mu       sync.Mutex
	accounts []*account
	nextKey  int
}

type account struct {
	ID       string
	Username string
	Email    string
	Name     string
	Disabled bool
	Roles    []string // sorted
	Keys     []*apiKey
}

type apiKey struct {
	ID      string
	Name    string
	Revoked bool
}

// NewAdmin returns an empty admin tool.
func NewAdmin() *Admin { return &Admin{} }

// AddAccount creates an active account and returns its ID. Usernames are unique; emails need
// not be (two accounts may share one, which the plan reports as ambiguous).
func (a *Admin) AddAccount(username, email, name string) (string, error) {
	if username == "" || email == "" {
		return "", errors.New("an account needs a username and an email")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byUsername(username) != nil {
		return "", fmt.Errorf("username %q is taken", username)
	}
	acc := &account{ID: fmt.Sprintf("u-%d", len(a.accounts)+1), Username: username, Email: email, Name: name}
	a.accounts = append(a.accounts, acc)
	return acc.ID, nil
}

// GrantRole gives the account a role.
func (a *Admin) GrantRole(username, role string) error {
	if role == "" {
		return errors.New("empty role")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	acc := a.byUsername(username)
	if acc == nil {
		return fmt.Errorf("no account %q", username)
	}
	if !slices.Contains(acc.Roles, role) {
		acc.Roles = append(acc.Roles, role)
		slices.Sort(acc.Roles)
	}
	return nil
}

// AddAPIKey issues an API key to the account and returns the key's ID (never a secret: the
// example keeps no key material).
func (a *Admin) AddAPIKey(username, keyName string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	acc := a.byUsername(username)
	if acc == nil {
		return "", fmt.Errorf("no account %q", username)
	}
	a.nextKey++
	k := &apiKey{ID: fmt.Sprintf("k-%d", a.nextKey), Name: keyName}
	acc.Keys = append(acc.Keys, k)
	return k.ID, nil
}

// Holdings lists, for people, every access the accounts with this email still hold; it is
// empty once they are offboarded.
func (a *Admin) Holdings(email string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, acc := range a.accounts {
		if !strings.EqualFold(acc.Email, email) {
			continue
		}
		if !acc.Disabled {
			out = append(out, fmt.Sprintf("account %s (%s) is active", acc.ID, acc.Username))
		}
		for _, r := range acc.Roles {
			out = append(out, fmt.Sprintf("account %s has role %s", acc.ID, r))
		}
		for _, k := range acc.Keys {
			if !k.Revoked {
				out = append(out, fmt.Sprintf("account %s has API key %s (%s)", acc.ID, k.ID, k.Name))
			}
		}
	}
	return out
}

// Check reports what would stop the tool from offboarding anyone; nothing, in memory.
func (a *Admin) Check() []string { return []string{} }

func (a *Admin) byUsername(username string) *account {
	for _, acc := range a.accounts {
		if acc.Username == username {
			return acc
		}
	}
	return nil
}

func (a *Admin) byID(id string) *account {
	for _, acc := range a.accounts {
		if acc.ID == id {
			return acc
		}
	}
	return nil
}

// find returns the accounts that are the person: the one with their handle as username when
// offboard sends a handle, otherwise every account with their email.
func (a *Admin) find(p Person) ([]*account, string) {
	if p.Handle != "" {
		if acc := a.byUsername(p.Handle); acc != nil {
			return []*account{acc}, "username " + p.Handle
		}
		return nil, "username " + p.Handle
	}
	var found []*account
	for _, acc := range a.accounts {
		if p.Email != "" && strings.EqualFold(acc.Email, p.Email) {
			found = append(found, acc)
		}
	}
	return found, "email " + p.Email
}

// Plan lists what to remove. Targets are unique across the whole tool (not just the person),
// and Params carry the account ID so apply and verify need nothing else.
func (a *Admin) Plan(p Person) PlanResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	found, by := a.find(p)
	switch len(found) {
	case 0:
		return PlanResponse{NotFound: true, Actions: []Action{}, Notes: []string{"no account with " + by}}
	case 1:
	default:
		ids := make([]string, len(found))
		for i, acc := range found {
			ids[i] = acc.ID + " (" + acc.Username + ")"
		}
		// Never guess between several accounts: a human decides which is the leaver's.
		return PlanResponse{
			NotFound: true,
			Actions:  []Action{},
			Manual:   []Manual{{Detail: fmt.Sprintf("%d accounts share %s: %s; offboard the right one by hand or set the person's handle", len(found), by, strings.Join(ids, ", "))}},
			Notes:    []string{"ambiguous match on " + by},
		}
	}
	acc := found[0]
	resp := PlanResponse{Account: fmt.Sprintf("%s (%s, %s)", acc.ID, acc.Username, status(acc)), Actions: []Action{}}
	params := map[string]string{"account_id": acc.ID}
	for _, k := range acc.Keys {
		if k.Revoked {
			continue
		}
		resp.Actions = append(resp.Actions, Action{
			Kind: KindRevokeAPIKey, Target: k.ID, Detail: fmt.Sprintf("Revoke API key %s (%s)", k.Name, k.ID),
			Params: params, Before: "active",
		})
	}
	for _, r := range acc.Roles {
		resp.Actions = append(resp.Actions, Action{
			Kind: KindRemoveRole, Target: acc.ID + ":" + r, Detail: "Remove role " + r,
			Params: map[string]string{"account_id": acc.ID, "role": r}, Before: "granted",
		})
	}
	if !acc.Disabled {
		// Disable last: keys and roles first, so the account that remains is inert, and the
		// disabled flag marks a finished offboarding. After names only kinds this plan holds.
		var after []string
		for _, kind := range []string{KindRevokeAPIKey, KindRemoveRole} {
			if slices.ContainsFunc(resp.Actions, func(x Action) bool { return x.Kind == kind }) {
				after = append(after, kind)
			}
		}
		resp.Actions = append(resp.Actions, Action{
			Kind: KindDisableAccount, Target: acc.ID, Detail: fmt.Sprintf("Disable account %s (%s)", acc.Username, acc.ID),
			Params: params, After: after, Before: "active",
		})
	}
	if len(resp.Actions) == 0 {
		resp.Notes = append(resp.Notes, "account is already disabled with no roles or API keys")
	}
	return resp
}

// Apply makes one change to the person's account. It is idempotent: a change already made,
// or a target that no longer exists, is success. An action naming an account that is not the
// person's is refused: the action comes back from offboard as the plan gave it, and a plan
// answer altered on its way (over plain HTTP, say) must not turn into disabling someone else.
func (a *Admin) Apply(p Person, act Action) ApplyResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	if act.Params["account_id"] == "" {
		return failed("bad_action", "the action has no account_id parameter")
	}
	acc := a.byID(act.Params["account_id"])
	if acc == nil {
		return ApplyResponse{OK: true, Message: "account no longer exists"}
	}
	if !a.owns(p, acc) {
		return failed("wrong_account", fmt.Sprintf("account %s is not the account of the person being offboarded", acc.ID))
	}
	switch act.Kind {
	case KindRevokeAPIKey:
		k := findKey(acc, act.Target)
		if k == nil {
			if a.keyOwner(act.Target) != nil {
				// A key of someone else: refusing protects the wrong person.
				return failed("wrong_account", fmt.Sprintf("key %s does not belong to account %s", act.Target, acc.ID))
			}
			return ApplyResponse{OK: true, Message: "key no longer exists"}
		}
		changed := !k.Revoked
		k.Revoked = true
		return ApplyResponse{OK: true, Changed: changed}
	case KindRemoveRole:
		role := act.Params["role"]
		i := slices.Index(acc.Roles, role)
		if i < 0 {
			return ApplyResponse{OK: true, Message: "role not held"}
		}
		acc.Roles = slices.Delete(acc.Roles, i, i+1)
		return ApplyResponse{OK: true, Changed: true}
	case KindDisableAccount:
		changed := !acc.Disabled
		acc.Disabled = true
		return ApplyResponse{OK: true, Changed: changed}
	default:
		return failed("unknown_kind", "this tool does not plan "+act.Kind)
	}
}

// Verify reads the person's account back and says whether the action's effect is in place.
func (a *Admin) Verify(p Person, act Action) VerifyResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	if act.Params["account_id"] == "" {
		return VerifyResponse{Observed: "the action has no account_id parameter; nothing to read"}
	}
	acc := a.byID(act.Params["account_id"])
	if acc == nil {
		return VerifyResponse{Verified: true, Observed: "account " + act.Params["account_id"] + " no longer exists"}
	}
	if !a.owns(p, acc) {
		return VerifyResponse{Observed: fmt.Sprintf("account %s is not the account of the person being offboarded; nothing is verified", acc.ID)}
	}
	read := readAccount(acc)
	switch act.Kind {
	case KindRevokeAPIKey:
		k := findKey(acc, act.Target)
		if k == nil || k.Revoked {
			return VerifyResponse{Verified: true, Observed: "API key " + act.Target + " is revoked", Read: read}
		}
		return VerifyResponse{Observed: "API key " + act.Target + " is active", Read: read}
	case KindRemoveRole:
		role := act.Params["role"]
		if slices.Contains(acc.Roles, role) {
			return VerifyResponse{Observed: fmt.Sprintf("account %s has role %s", acc.ID, role), Read: read}
		}
		return VerifyResponse{Verified: true, Observed: fmt.Sprintf("account %s does not have role %s", acc.ID, role), Read: read}
	case KindDisableAccount:
		return VerifyResponse{Verified: acc.Disabled, Observed: fmt.Sprintf("account %s is %s", acc.ID, status(acc)), Read: read}
	default:
		return VerifyResponse{Observed: "this tool does not plan " + act.Kind}
	}
}

// owns reports whether acc is one of the person's accounts, found as Plan finds them.
func (a *Admin) owns(p Person, acc *account) bool {
	found, _ := a.find(p)
	return slices.Contains(found, acc)
}

func (a *Admin) keyOwner(id string) *account {
	for _, acc := range a.accounts {
		if findKey(acc, id) != nil {
			return acc
		}
	}
	return nil
}

func findKey(acc *account, id string) *apiKey {
	for _, k := range acc.Keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

func failed(code, msg string) ApplyResponse {
	return ApplyResponse{Error: &ApplyError{Code: code, Message: msg, Retryable: false}}
}

func status(acc *account) string {
	if acc.Disabled {
		return "disabled"
	}
	return "active"
}

// readAccount is the evidence offboard stores with a verification: the account as read now.
func readAccount(acc *account) json.RawMessage {
	type key struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Revoked bool   `json:"revoked"`
	}
	keys := make([]key, len(acc.Keys))
	for i, k := range acc.Keys {
		keys[i] = key{k.ID, k.Name, k.Revoked}
	}
	b, _ := json.Marshal(map[string]any{
		"id": acc.ID, "username": acc.Username, "status": status(acc), "roles": append([]string{}, acc.Roles...), "api_keys": keys,
	})
	return b
}
