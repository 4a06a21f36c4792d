package signature

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSignMatchesOpenSSL pins the scheme to a value computed with the openssl command shown in
// docs/hr.md, so the documentation and the code cannot drift apart.
func TestSignMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	got := Sign([]byte("whsec_test"), time.Unix(1700000000, 0), []byte(`{"event_id":"x"}`))
	want := "t=1700000000,v1=374e4423a7b4320bf01c87998cffb54f4cec8706c37ac5ce42e72361037b756f"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	oldSecret, newSecret := []byte("old-secret"), []byte("new-secret")
	body := []byte(`{"event_id":"e1","type":"termination"}`)
	good := Sign(newSecret, now, body)
	goodSig := good[strings.Index(good, "v1="):]
	otherSig := Sign([]byte("someone-else"), now, body)
	otherSig = otherSig[strings.Index(otherSig, "v1="):]
	ts := "t=" + strings.TrimPrefix(strings.Split(good, ",")[0], "t=")

	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets [][]byte
		want    error // nil means accepted
	}{
		{"good", good, body, [][]byte{newSecret}, nil},
		{"rotated: signed with the old secret, both configured", Sign(oldSecret, now, body), body, [][]byte{newSecret, oldSecret}, nil},
		{"rotated: signed with the new secret, both configured", good, body, [][]byte{oldSecret, newSecret}, nil},
		{"retired secret no longer accepted", Sign(oldSecret, now, body), body, [][]byte{newSecret}, ErrMismatch},
		{"several v1, one matches", ts + "," + otherSig + "," + goodSig, body, [][]byte{newSecret}, nil},
		{"unknown scheme beside v1 is ignored", good + ",v0=abc", body, [][]byte{newSecret}, nil},
		{"spaces around parts", " t=" + strings.TrimPrefix(ts, "t=") + " , " + goodSig + " ", body, [][]byte{newSecret}, nil},
		{"tampered body", good, []byte(`{"event_id":"e2","type":"termination"}`), [][]byte{newSecret}, ErrMismatch},
		{"timestamp changed after signing", "t=" + strconv.FormatInt(now.Unix()+1, 10) + "," + goodSig, body, [][]byte{newSecret}, ErrMismatch},
		{"wrong secret", Sign([]byte("guess"), now, body), body, [][]byte{newSecret}, ErrMismatch},
		{"exactly 5 minutes old is accepted", Sign(newSecret, now.Add(-5*time.Minute), body), body, [][]byte{newSecret}, nil},
		{"exactly 5 minutes ahead is accepted", Sign(newSecret, now.Add(5*time.Minute), body), body, [][]byte{newSecret}, nil},
		{"stale: older than 5 minutes", Sign(newSecret, now.Add(-5*time.Minute-time.Second), body), body, [][]byte{newSecret}, ErrStale},
		{"stale: more than 5 minutes ahead", Sign(newSecret, now.Add(5*time.Minute+time.Second), body), body, [][]byte{newSecret}, ErrStale},
		{"missing header", "", body, [][]byte{newSecret}, ErrMissing},
		{"blank header", "   ", body, [][]byte{newSecret}, ErrMissing},
		{"malformed: not key=value", "garbage", body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: no t", goodSig, body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: no v1", ts, body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: t not a number", "t=yesterday," + goodSig, body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: negative t", "t=-5," + goodSig, body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: two t", ts + "," + ts + "," + goodSig, body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: v1 not hex", ts + ",v1=" + strings.Repeat("z", 64), body, [][]byte{newSecret}, ErrMalformed},
		{"malformed: v1 too short", ts + ",v1=abcd", body, [][]byte{newSecret}, ErrMalformed},
		{"no secrets configured", good, body, nil, ErrNoSecrets},
		{"only empty secrets configured", good, body, [][]byte{{}}, ErrNoSecrets},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tc.header, tc.body, tc.secrets, now)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected a good signature: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if sig := strings.TrimSpace(tc.header); len(sig) > 20 && strings.Contains(err.Error(), sig) {
				t.Fatalf("error echoes the header: %v", err)
			}
		})
	}
}
