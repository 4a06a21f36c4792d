package jenkins

import (
	"slices"
	"testing"

	"github.com/offboard-dev/offboard/internal/connector"
)

// TestParseTokens protects reading the token list from the markup Jenkins renders: the
// current cards (skipping the empty row template), legacy tokens, escaped names, the hidden
// inputs of older versions, and a page with no token list, which must be an error rather
// than "no tokens".
func TestParseTokens(t *testing.T) {
	t.Parallel()
	current := `<div class="jenkins-hidden" id="api-token-row-template"><div class="token-card jenkins-card" id="">
<span class="token-name"></span><button class="api-token-property-token-revoke" data-token-uuid="" data-target-url="x/revoke"></button></div></div>
<div class="token-list ignore-dirty-panel"><div id="api-token-list">
<div class="token-card jenkins-card" id="u-2"><div class="token-card__title legacy-token" tooltip="legacy"><span class="token-name">Legacy &amp; old</span></div>
<button type="button" class="jenkins-button api-token-property-token-revoke" data-token-uuid="u-2"></button></div>
<div class="token-card jenkins-card" id="u-1"><div class="token-card__title"><span class="token-name">
  laptop </span></div><button data-token-uuid="u-1"></button></div>
</div></div>`
	got, err := parseTokens(current)
	if err != nil {
		t.Fatal(err)
	}
	want := []apiToken{{UUID: "u-1", Name: "laptop"}, {UUID: "u-2", Name: "Legacy & old", Legacy: true}}
	if !slices.Equal(got, want) {
		t.Errorf("current markup: %+v, want %+v", got, want)
	}

	old := `<div class="token-list"><div name="tokenStore"><input type="hidden" name="tokenUuid" value="old-1"/>
<input type="hidden" name="tokenUuid" value="old-2"></div></div>`
	got, err = parseTokens(old)
	if err != nil || !slices.Equal(got, []apiToken{{UUID: "old-1"}, {UUID: "old-2"}}) {
		t.Errorf("older markup: %+v, %v", got, err)
	}

	empty := `<div class="token-list"><div id="api-token-list"></div></div>`
	if got, err := parseTokens(empty); err != nil || len(got) != 0 {
		t.Errorf("empty list: %+v, %v", got, err)
	}
	if _, err := parseTokens(`<html><body>Sign in</body></html>`); !connector.IsPermanent(err) {
		t.Errorf("a page without a token list: %v, want a permanent error", err)
	}
}

// TestDecodeError protects the messages operators see for Jenkins' HTML error pages.
func TestDecodeError(t *testing.T) {
	t.Parallel()
	cases := map[string][2]string{
		`<p>No valid crumb was included in the request</p>`:                     {"crumb", "No valid crumb was included in the request"},
		`<p>bob is missing the Overall/Administer permission</p>`:               {"permission", "bob is missing the Overall/Administer permission"},
		`<html><head><title>Error 400 Cannot delete self</title></head></html>`: {"self", "Cannot delete self"},
		`<html><head><title>Oops &amp; more</title></head></html>`:              {"", "Oops & more"},
	}
	for body, want := range cases {
		code, summary := decodeError(0, []byte(body))
		if code != want[0] || summary != want[1] {
			t.Errorf("%q: %q %q, want %q %q", body, code, summary, want[0], want[1])
		}
	}
}
