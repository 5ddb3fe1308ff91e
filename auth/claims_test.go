package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestClaims: tokens a client could forge with the key but that no honest
// client signs (a ten-year lifetime, an iat in the future, an exp given
// as a string) are refused.
func TestClaims(t *testing.T) {
	key := []byte("0123456789abcdef")
	now := time.Now()
	sign := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p := &PSK{Key: key}
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		want   string // "" accepts
	}{
		{"five minutes", jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}, ""},
		{"ten years", jwt.MapClaims{"iat": now.Unix(), "exp": now.AddDate(10, 0, 0).Unix()}, "lifetime"},
		{"ten years without iat", jwt.MapClaims{"exp": now.AddDate(10, 0, 0).Unix()}, "lifetime"},
		{"iat in the future", jwt.MapClaims{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(time.Hour + time.Minute).Unix()}, "issued in the future"},
		{"exp as a string", jwt.MapClaims{"iat": now.Unix(), "exp": `"` + string(rune('0')) + `"`}, "malformed"},
		{"exp as a numeric string", jwt.MapClaims{"exp": strings.TrimSpace(time.Now().Add(time.Minute).Format("20060102"))}, "malformed"},
		{"iss as a number", jwt.MapClaims{"exp": now.Add(time.Minute).Unix(), "iss": 7}, "iss"},
	} {
		err := p.Verify(sign(tc.claims))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// The bound is configurable.
	long := &PSK{Key: key, MaxLifetime: 48 * time.Hour}
	if err := long.Verify(sign(jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix()})); err != nil {
		t.Errorf("a day under a 48h bound: %v", err)
	}
}
