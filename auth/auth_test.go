package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	testKey  = []byte("a pre-shared key of thirty-two b")
	otherKey = []byte("another key, also thirty-two byt")
)

// token signs claims with method and key, the way a client (or an attacker)
// would, outside of Sign, so that the tests can make tokens Sign refuses to.
func token(t *testing.T, method jwt.SigningMethod, key any, c jwt.RegisteredClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(iss string, nbf, exp time.Duration) jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{
		Issuer:    iss,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(nbf)),
		ExpiresAt: jwt.NewNumericDate(now.Add(exp)),
	}
}

func TestMiddleware(t *testing.T) {
	signed, err := Sign(testKey, "clairctl", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// The RS256/HS256 confusion: an HMAC signature under the shared key
	// with the header claiming RS256.
	confused := func() string {
		parts := strings.Split(token(t, jwt.SigningMethodHS256, testKey, claims("clairctl", 0, time.Minute)), ".")
		parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
		sig, err := jwt.SigningMethodHS256.Sign(parts[0]+"."+parts[1], testKey)
		if err != nil {
			t.Fatal(err)
		}
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}()
	noExp := token(t, jwt.SigningMethodHS256, testKey, jwt.RegisteredClaims{Issuer: "clairctl"})

	psk := &PSK{Key: testKey, Issuers: []string{"clairctl", "quay"}}
	tests := []struct {
		name   string
		psk    *PSK
		header []string // Authorization values; nil sends none
		ok     bool
		msg    string // part of the 401 message
	}{
		{name: "signed by Sign", psk: psk, header: []string{"Bearer " + signed}, ok: true},
		{name: "lowercase scheme", psk: psk, header: []string{"bearer " + signed}, ok: true},
		{name: "other allowed issuer", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("quay", 0, time.Minute))}, ok: true},
		{name: "any issuer when list empty", psk: &PSK{Key: testKey}, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("whoever", 0, time.Minute))}, ok: true},
		{name: "expired within leeway", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("clairctl", -time.Minute, -5*time.Second))}, ok: true},
		{name: "nbf within leeway", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("clairctl", 5*time.Second, time.Minute))}, ok: true},

		{name: "missing header", psk: psk, msg: "missing Authorization header"},
		{name: "basic scheme", psk: psk, header: []string{"Basic dXNlcjpwYXNz"}, msg: "not \"Bearer <token>\""},
		{name: "empty bearer", psk: psk, header: []string{"Bearer "}, msg: "not \"Bearer <token>\""},
		{name: "malformed", psk: psk, header: []string{"Bearer not.a.jwt"}, msg: "malformed token"},
		{name: "two segments", psk: psk, header: []string{"Bearer abc.def"}, msg: "malformed token"},
		{name: "expired", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("clairctl", -time.Hour, -time.Minute))}, msg: "token expired"},
		{name: "future nbf", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("clairctl", time.Minute, time.Hour))}, msg: "not valid yet"},
		{name: "no exp", psk: psk, header: []string{"Bearer " + noExp}, msg: "no exp claim"},
		{name: "wrong key", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, otherKey, claims("clairctl", 0, time.Minute))}, msg: "bad signature"},
		{name: "wrong issuer", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("mallory", 0, time.Minute))}, msg: `issuer "mallory" not allowed`},
		{name: "no issuer", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS256, testKey, claims("", 0, time.Minute))}, msg: `issuer "" not allowed`},
		{name: "alg none", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("clairctl", 0, time.Minute))}, msg: "must be HS256"},
		{name: "HS512 with the right key", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodHS512, testKey, claims("clairctl", 0, time.Minute))}, msg: "must be HS256"},
		{name: "RS256", psk: psk, header: []string{"Bearer " + token(t, jwt.SigningMethodRS256, rsaKey, claims("clairctl", 0, time.Minute))}, msg: "must be HS256"},
		{name: "RS256 header over HMAC signature", psk: psk, header: []string{"Bearer " + confused}, msg: "must be HS256"},
		{name: "server without key", psk: &PSK{}, header: []string{"Bearer " + signed}, msg: "no key configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			h := tc.psk.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				w.WriteHeader(http.StatusNoContent)
			}))
			req := httptest.NewRequest(http.MethodGet, "/indexer/api/v1/index_state", nil)
			for _, v := range tc.header {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tc.ok {
				if !called || rec.Code != http.StatusNoContent {
					t.Fatalf("refused: %d %s", rec.Code, rec.Body)
				}
				return
			}
			if called {
				t.Fatal("next handler called for a refused request")
			}
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
			var body struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
			}
			if body.Code != "unauthorized" || !strings.Contains(body.Message, tc.msg) {
				t.Errorf("body = %+v, want code unauthorized and message containing %q", body, tc.msg)
			}
		})
	}
}

func TestSign(t *testing.T) {
	before := time.Now().Add(-time.Second)
	s, err := Sign(testKey, "clairctl", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return testKey, nil })
	if err != nil {
		t.Fatal(err)
	}
	if alg := tok.Header["alg"]; alg != "HS256" {
		t.Errorf("alg = %v", alg)
	}
	if c.Issuer != "clairctl" || c.IssuedAt == nil || c.NotBefore == nil || c.ExpiresAt == nil {
		t.Fatalf("claims = %+v", c)
	}
	if c.IssuedAt.Before(before) || c.NotBefore.Time != c.IssuedAt.Time {
		t.Errorf("iat %v nbf %v, want now", c.IssuedAt, c.NotBefore)
	}
	if d := c.ExpiresAt.Sub(c.IssuedAt.Time); d != 5*time.Minute {
		t.Errorf("exp - iat = %v", d)
	}
	if err := (&PSK{Key: testKey, Issuers: []string{"clairctl"}}).Verify(s); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := (&PSK{Key: otherKey}).Verify(s); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify with another key: %v, want ErrInvalidToken", err)
	}

	if _, err := Sign(nil, "x", time.Minute); err == nil {
		t.Error("Sign with an empty key succeeded")
	}
	if _, err := Sign(testKey, "x", 0); err == nil {
		t.Error("Sign with ttl 0 succeeded")
	}
}

func TestDecodeKey(t *testing.T) {
	// Bytes whose encodings differ between the std and URL alphabets and
	// need padding.
	raw := []byte{0xfb, 0xff, 0xbf, 0x01, 0x02}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		s := enc.EncodeToString(raw)
		got, err := DecodeKey(" " + s + "\n")
		if err != nil {
			t.Errorf("DecodeKey(%q): %v", s, err)
			continue
		}
		if string(got) != string(raw) {
			t.Errorf("DecodeKey(%q) = %x, want %x", s, got, raw)
		}
	}
	for _, bad := range []string{"", "   ", "not base64!", "===="} {
		if _, err := DecodeKey(bad); err == nil {
			t.Errorf("DecodeKey(%q) succeeded", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error %q repeats the key", err)
		}
	}
}
