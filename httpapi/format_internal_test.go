package httpapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/openclair/clair/report"
)

// TestFormatsDocumented: the OpenAPI document's format enum is what the
// handler accepts, and every one has its media type documented.
func TestFormatsDocumented(t *testing.T) {
	var op struct {
		Parameters []struct {
			Name   string
			Schema struct{ Enum []string }
		}
		Responses map[string]struct {
			Content map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(loadDoc(t).Paths["/matcher/api/v1/vulnerability_report/{digest}"]["get"], &op); err != nil {
		t.Fatal(err)
	}
	if len(op.Parameters) != 1 || op.Parameters[0].Name != "format" || !slices.Equal(op.Parameters[0].Schema.Enum, serverFormats) {
		t.Fatalf("documented %+v, served %v", op.Parameters, serverFormats)
	}
	for _, f := range serverFormats {
		mt, _, _ := strings.Cut(report.ContentType(f), ";")
		if _, ok := op.Responses["200"].Content[mt]; !ok {
			t.Errorf("%s: %s not documented", f, mt)
		}
	}
}
