package awssim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxSkew is how far a request's X-Amz-Date may be from the server's clock (SigV4 docs: a
// signed request is valid for five minutes either side; IAM allows fifteen).
const maxSkew = 15 * time.Minute

// sigV4 is a parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…` header.
type sigV4 struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
}

func parseAuthorization(h string) (sigV4, bool) {
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != "AWS4-HMAC-SHA256" {
		return sigV4{}, false
	}
	var sig sigV4
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigV4{}, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sigV4{}, false
			}
			sig.accessKeyID, sig.date, sig.region, sig.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			sig.signedHeaders = strings.Split(v, ";")
		case "Signature":
			sig.signature = v
		}
	}
	if sig.accessKeyID == "" || len(sig.signedHeaders) == 0 || sig.signature == "" {
		return sigV4{}, false
	}
	return sig, true
}

// authenticate checks the request's Signature Version 4 the way AWS does: a known access key
// ID (else InvalidClientTokenId), the session token when one is configured, the credential
// scope and the signing time, then the signature itself, recomputed with the secret key over
// the request as it arrived (else SignatureDoesNotMatch). It returns the calling user.
func (s *Server) authenticate(r *http.Request, body []byte) (string, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", apiErr(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	sig, ok := parseAuthorization(h)
	if !ok {
		return "", apiErr(http.StatusBadRequest, "IncompleteSignature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.")
	}
	invalidToken := apiErr(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	if s.opts.AccessKeyID == "" || subtle.ConstantTimeCompare([]byte(sig.accessKeyID), []byte(s.opts.AccessKeyID)) != 1 {
		return "", invalidToken
	}
	if token := r.Header.Get("X-Amz-Security-Token"); token != "" || s.opts.SessionToken != "" {
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.SessionToken)) != 1 {
			return "", invalidToken
		}
	}
	mismatch := func(msg string) *apiError { return apiErr(http.StatusForbidden, "SignatureDoesNotMatch", msg) }
	if sig.service != "iam" {
		return "", mismatch("Credential should be scoped to correct service: 'iam'.")
	}
	if sig.region != s.opts.Region {
		return "", mismatch("Credential should be scoped to a valid region.")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != sig.date {
		return "", apiErr(http.StatusBadRequest, "IncompleteSignature", "Date must be in ISO-8601 'basic format' and match the credential scope.")
	}
	if d := s.now().Sub(at); d > maxSkew || d < -maxSkew {
		return "", mismatch("Signature expired: " + r.Header.Get("X-Amz-Date") + " is now earlier than the allowed window.")
	}
	want, err := s.expectedSignature(r, body, sig, at)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig.signature)) != 1 {
		return "", mismatch("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return s.opts.CallerName, nil
}

// expectedSignature signs a copy of the request (the headers the client said it signed, the
// path and query of the request line, so any mount prefix counts) with the account's secret.
func (s *Server) expectedSignature(r *http.Request, body []byte, sig sigV4, at time.Time) (string, error) {
	target, err := url.ParseRequestURI(r.RequestURI)
	if err != nil || r.RequestURI == "" {
		target = r.URL
	}
	u := url.URL{Scheme: "http", Host: r.Host, Path: target.Path, RawPath: target.RawPath, RawQuery: target.RawQuery}
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Host = r.Host
	req.ContentLength = int64(len(body))
	for _, name := range sig.signedHeaders {
		switch name {
		case "host", "content-length":
			continue // the signer takes these from the request itself
		}
		for _, v := range r.Header.Values(name) {
			req.Header.Add(name, v)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, SessionToken: s.opts.SessionToken}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, hex.EncodeToString(sum[:]), "iam", sig.region, at); err != nil {
		return "", err
	}
	got, ok := parseAuthorization(req.Header.Get("Authorization"))
	if !ok {
		return "", errBadSignature
	}
	return got.signature, nil
}

type simError string

func (e simError) Error() string { return string(e) }

const errBadSignature = simError("the signer produced no Authorization header")
