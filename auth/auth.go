// Package auth signs and checks the pre-shared-key JWTs that guard Clair's
// HTTP API (Clair v4's `auth: psk: {key, iss}` configuration): clients sign
// a short-lived HS256 token with the shared key, and the server's middleware
// refuses any request that does not carry one it can verify.
package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Leeway is the clock skew tolerated when checking exp and nbf: the same 15
// seconds Clair v4 allows, so that a client whose clock runs a little ahead
// is not refused a token it has only just signed.
const Leeway = 15 * time.Second

// ErrInvalidToken is wrapped by every error Verify returns, so that callers
// can tell a refused token from other failures.
var ErrInvalidToken = errors.New("auth: invalid token")

// Sign returns an HS256 JWT signed with key, naming issuer and valid from now
// for ttl. The token carries iat and nbf (now) and exp (now+ttl): servers
// that follow Clair require exp, and a short ttl limits what a leaked token
// is worth.
func Sign(key []byte, issuer string, ttl time.Duration) (string, error) {
	if len(key) == 0 {
		return "", errors.New("auth: sign: empty key")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: sign: ttl %v: want a positive duration", ttl)
	}
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Issuer:    issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return s, nil
}

// DecodeKey decodes the base64 key of a configuration file. Clair's own
// configs use standard encoding, but keys generated for URLs or pasted
// without padding are common, so all four alphabets/paddings are accepted.
// The error never repeats the input: it is a secret.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("auth: key: empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) == 0 {
				break
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("auth: key: not valid base64 (%d characters)", len(s))
}

// PSK checks requests for a JWT signed with a pre-shared key.
type PSK struct {
	// Key is the shared HMAC key (decoded, see DecodeKey). An empty Key
	// refuses every request: failing closed beats an open API.
	Key []byte
	// Issuers lists the accepted "iss" values; empty accepts any issuer.
	Issuers []string
	// MaxLifetime refuses tokens whose exp is further than this past their
	// iat (or past now, without iat): a token good for ten years is a
	// password that cannot be changed. 0 means DefaultMaxLifetime.
	MaxLifetime time.Duration
}

// DefaultMaxLifetime is the longest token lifetime a PSK accepts unless
// told otherwise: clients sign tokens per request or per few minutes
// (clairctl and Quay sign for minutes).
const DefaultMaxLifetime = time.Hour

// Verify checks a compact JWT: algorithm exactly HS256, signature under Key
// (jwt's HMAC check compares with hmac.Equal, in constant time), exp present
// and not passed, nbf not in the future (both with Leeway), and iss in
// Issuers when that list is not empty. Errors wrap ErrInvalidToken.
func (p *PSK) Verify(token string) error {
	if len(p.Key) == 0 {
		return fmt.Errorf("%w: server has no key configured", ErrInvalidToken)
	}
	parser := jwt.NewParser(
		// Pinning the one algorithm closes "alg":"none" and the
		// RS256/HS256 confusion: the token does not get to pick.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	// MapClaims, not RegisteredClaims: those read a quoted "exp" as a
	// number, and a claim of the wrong type is malformed, not lenient.
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		// Belt and braces with WithValidMethods: never hand the key to
		// another verifier.
		if t.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("algorithm %v", t.Header["alg"])
		}
		return p.Key, nil
	})
	if err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
	}
	iss, err := claims.GetIssuer()
	if err != nil {
		return fmt.Errorf("%w: iss: not a string", ErrInvalidToken)
	}
	if len(p.Issuers) > 0 && !slices.Contains(p.Issuers, iss) {
		return fmt.Errorf("%w: issuer %q not allowed", ErrInvalidToken, iss)
	}
	exp, _ := claims.GetExpirationTime() // required and checked by the parser
	start := time.Now()
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		start = iat.Time
	}
	max := p.MaxLifetime
	if max <= 0 {
		max = DefaultMaxLifetime
	}
	if exp != nil && exp.Sub(start) > max+Leeway {
		return fmt.Errorf("%w: lifetime %s is longer than the %s allowed", ErrInvalidToken, exp.Sub(start).Round(time.Second), max)
	}
	return nil
}

// reason turns jwt's error chains into a short message fit for a client:
// which check failed, without the library's nesting.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrInvalidType):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") || strings.Contains(err.Error(), "algorithm") {
			return "signing algorithm must be HS256"
		}
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signing algorithm must be HS256"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token has no exp claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet (nbf in the future)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future (iat)"
	}
	return err.Error()
}

// Middleware refuses, with 401 and Clair's error JSON, any request whose
// Authorization header does not hold a bearer token Verify accepts, and
// passes the rest to next.
func (p *PSK) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := bearer(r)
		if err == nil {
			err = p.Verify(tok)
		}
		if err != nil {
			unauthorized(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Authenticate checks a request's bearer token as Middleware does, for
// servers that answer refusals in their own error shape (the classic API's
// differs from v4's). The error's text after ErrInvalidToken is fit for
// the client.
func (p *PSK) Authenticate(r *http.Request) error {
	tok, err := bearer(r)
	if err == nil {
		err = p.Verify(tok)
	}
	return err
}

// Reason is the client-facing part of an Authenticate error.
func Reason(err error) string {
	return strings.TrimPrefix(err.Error(), ErrInvalidToken.Error()+": ")
}

// bearer extracts the token of an "Authorization: Bearer ..." header. The
// scheme is case-insensitive (RFC 7235 §2.1).
func bearer(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 {
		return "", fmt.Errorf("%w: missing Authorization header", ErrInvalidToken)
	}
	for _, h := range hs {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			if tok = strings.TrimSpace(tok); tok != "" {
				return tok, nil
			}
		}
	}
	return "", fmt.Errorf("%w: Authorization header is not \"Bearer <token>\"", ErrInvalidToken)
}

// unauthorized writes Clair's httptransport error shape
// ({"code":"...","message":"..."}, application/json, nosniff) with the code
// "unauthorized". WWW-Authenticate tells clients which scheme to use (RFC
// 6750 §3).
func unauthorized(w http.ResponseWriter, err error) {
	msg := strings.TrimPrefix(err.Error(), ErrInvalidToken.Error()+": ")
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("WWW-Authenticate", `Bearer realm="clair", error="invalid_token"`)
	w.WriteHeader(http.StatusUnauthorized)
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"unauthorized", msg})
	w.Write(append(b, '\n'))
}
