package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes every route Handler serves; openapi_test.go checks
// that the two agree, and that its schemas name the fields the Go types
// marshal.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/openapi+json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDoc)
}
