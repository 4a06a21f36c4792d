package tool

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries offboard's signature of the request body.
const SignatureHeader = "Offboard-Signature"

// SignatureTolerance is how far the signed timestamp may be from this server's clock. It
// bounds how long a captured request can be replayed.
const SignatureTolerance = 5 * time.Minute

// errBadSignature is the one answer a caller gets for any signature problem; the reason is
// logged, not returned, so the tool does not coach someone forging requests.
var errBadSignature = errors.New("bad signature")

// VerifySignature checks an Offboard-Signature header, "t=<unix seconds>,v1=<hex>", where the
// hex is HMAC-SHA256 keyed with the shared secret over "<unix seconds>.<body>". Several v1
// values may be present (offboard signs with old and new secret while one is rotated); any
// match is enough. The timestamp must be within SignatureTolerance of now.
func VerifySignature(header string, body, secret []byte, now time.Time) error {
	if len(secret) == 0 {
		return errors.New("no secret configured")
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if ts != "" {
				return errors.New("signature header has more than one timestamp")
			}
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("signature header is missing or malformed")
	}
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts + "."))
	h.Write(body)
	want := h.Sum(nil)
	matched := false
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		// hmac.Equal takes the same time however much matches.
		if err == nil && hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return errors.New("signature does not match the body")
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > SignatureTolerance || skew < -SignatureTolerance {
		return errors.New("signature timestamp is outside the allowed window")
	}
	return nil
}
