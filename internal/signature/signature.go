// Package signature signs and verifies the webhook requests offboard exchanges: HR systems
// sign the terminations they send it, and offboard signs the requests it sends to a company's
// own tools. One HMAC-SHA256 scheme serves both, so a company implements it once.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the HTTP header that carries a webhook body's signature.
const Header = "Offboard-Signature"

// Tolerance is how far a signature's timestamp may be from the receiver's clock, in
// either direction. It bounds how long a captured request can be replayed (a replay inside the
// window carries the same event_id, which the intake recognises as a duplicate).
const Tolerance = 5 * time.Minute

// Reasons Verify gives for refusing a request. They name the problem without echoing
// the header, so they are safe to log and to return to the sender.
var (
	ErrMissing   = errors.New("signature header is missing")
	ErrMalformed = errors.New("signature header is malformed")
	ErrMismatch  = errors.New("signature does not match the body")
	ErrStale     = errors.New("signature timestamp is outside the allowed window")
	ErrNoSecrets = errors.New("no webhook secret is configured")
)

// Sign returns the Offboard-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>" keyed with secret>".
// Signing the timestamp with the body stops an old request from being replayed later with a
// fresh timestamp.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks an Offboard-Signature header against body. Any of secrets may have
// signed it, so a secret can be rotated by configuring the new one beside the old one until
// every sender has switched; any of several v1= values may match, so a sender can sign with
// both during the switch. The timestamp must be within Tolerance of now. The error
// wraps one of the ErrSignature* reasons and never contains the header's value.
func Verify(header string, body []byte, secrets [][]byte, now time.Time) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrMissing
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	usable := 0
	matched := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		usable++
		want := mac(secret, ts, body)
		for _, sig := range sigs {
			// hmac.Equal compares in constant time, so timing does not reveal how much matched.
			if hmac.Equal(want, sig) {
				matched = true
			}
		}
	}
	if usable == 0 {
		return ErrNoSecrets
	}
	if !matched {
		return ErrMismatch
	}
	// The timestamp is judged only once the signature is known to be genuine, so "stale"
	// always means a real sender whose clock or queue is off, which is worth telling apart.
	sec, _ := strconv.ParseInt(ts, 10, 64)
	skew := now.Sub(time.Unix(sec, 0))
	if skew > Tolerance || skew < -Tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrStale,
			time.Unix(sec, 0).UTC().Format(time.RFC3339), skew.Round(time.Second))
	}
	return nil
}

// parseSignature splits "t=...,v1=...[,v1=...]" into the timestamp text and the decoded
// signatures. Unknown keys are skipped so a future scheme can be sent alongside v1.
func parseSignature(header string) (string, [][]byte, error) {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: every part must be key=value", ErrMalformed)
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, fmt.Errorf("%w: more than one t=", ErrMalformed)
			}
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
				return "", nil, fmt.Errorf("%w: t= must be unix seconds", ErrMalformed)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, fmt.Errorf("%w: v1= must be %d hex digits", ErrMalformed, 2*sha256.Size)
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" {
		return "", nil, fmt.Errorf("%w: no t=", ErrMalformed)
	}
	if len(sigs) == 0 {
		return "", nil, fmt.Errorf("%w: no v1=", ErrMalformed)
	}
	return ts, sigs, nil
}
