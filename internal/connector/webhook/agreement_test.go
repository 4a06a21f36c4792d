package webhook

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/offboard-dev/offboard/examples/webhook-tool/tool"
	"github.com/offboard-dev/offboard/internal/signature"
)

// TestExampleVerifiesOffboardSignatures protects the promise that a company copying the
// example tool gets a signature check that agrees with offboard's signing: everything
// offboard signs is accepted, and every tampering offboard's own verifier refuses is refused
// by the example's few lines too.
func TestExampleVerifiesOffboardSignatures(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_790_000_000, 0)
	secret := []byte(sharedSecret)
	body := []byte(`{"version":1,"phase":"plan","system":"admin-tool","person":{"email":"dana@acme.example"}}`)
	good := signature.Sign(secret, now, body)
	other := signature.Sign([]byte(wrongSecret), now, body)
	_, v1, _ := strings.Cut(good, ",")

	cases := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		ok     bool
	}{
		{"signed by offboard", good, body, now, true},
		{"a few minutes of clock skew", good, body, now.Add(4 * time.Minute), true},
		{"rotation: old and new secret", other + "," + v1, body, now, true},
		{"tampered body", good, []byte(strings.Replace(string(body), "dana", "sam", 1)), now, false},
		{"wrong secret", other, body, now, false},
		{"replayed too late", good, body, now.Add(signature.Tolerance + time.Minute), false},
		{"from the future", good, body, now.Add(-signature.Tolerance - time.Minute), false},
		{"timestamp changed", strings.Replace(good, fmt.Sprint(now.Unix()), fmt.Sprint(now.Unix()+1), 1), body, now, false},
		{"missing", "", body, now, false},
		{"no v1", "t=" + fmt.Sprint(now.Unix()), body, now, false},
		{"no t", v1, body, now, false},
		{"garbage", "hello", body, now, false},
	}
	for _, tc := range cases {
		offboard := signature.Verify(tc.header, tc.body, [][]byte{secret}, tc.at)
		example := tool.VerifySignature(tc.header, tc.body, secret, tc.at)
		if (offboard == nil) != tc.ok || (example == nil) != tc.ok {
			t.Errorf("%s: offboard's Verify = %v, the example's = %v; want accepted = %v", tc.name, offboard, example, tc.ok)
		}
	}
}

// TestSignatureAgreementOnRandomInput protects the same agreement beyond hand-picked cases:
// for random bodies, secrets and times, and single-byte corruptions of the header, the
// example accepts exactly what offboard's verifier accepts.
func TestSignatureAgreementOnRandomInput(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Unix(1_790_000_000, 0)
	for i := range 500 {
		secret := randomBytes(rng, 16+rng.IntN(48))
		body := randomBytes(rng, rng.IntN(300))
		signed := base.Add(time.Duration(rng.IntN(1000)) * time.Second)
		at := signed.Add(time.Duration(rng.IntN(800)-400) * time.Second)
		header := signature.Sign(secret, signed, body)
		if rng.IntN(2) == 0 {
			b := []byte(header)
			b[rng.IntN(len(b))] = "0123456789abcdef,=tv"[rng.IntN(20)]
			header = string(b)
		}
		offboard := signature.Verify(header, body, [][]byte{secret}, at)
		example := tool.VerifySignature(header, body, secret, at)
		if (offboard == nil) != (example == nil) {
			t.Fatalf("case %d: offboard's Verify = %v, the example's = %v for header %q", i, offboard, example, header)
		}
	}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}
