package httpapi

import (
	"net/http/httptest"
	"testing"
)

// FuzzNegotiate: any Accept header yields Clair's type, JSON, or a 415,
// and any X-Request-Id is either kept verbatim (when sane) or replaced.
func FuzzNegotiate(f *testing.F) {
	f.Add("application/json;q=0.9, */*;q=0")
	f.Add("application/vnd.clair.indexreport.v1+json")
	f.Fuzz(func(t *testing.T, accept string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		ct, ok := negotiate(r, mediaIndexReport)
		if ok != (ct != "") || ok && ct != mediaIndexReport && ct != "application/json" {
			t.Fatalf("%q: %q %v", accept, ct, ok)
		}
		if validRequestID(accept) && (len(accept) > 64 || accept == "") {
			t.Fatalf("%q accepted as a request id", accept)
		}
	})
}
