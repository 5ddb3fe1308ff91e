package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/service"
	"github.com/openclair/clair/vuln"
)

type openAPI struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func loadDoc(t *testing.T) *openAPI {
	t.Helper()
	var d openAPI
	if err := json.Unmarshal(openAPIDoc, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &d
}

// TestOpenAPIRoutes checks the document lists exactly the routes and
// methods the server registers.
func TestOpenAPIRoutes(t *testing.T) {
	s := &Server{Indexer: &service.Indexer{}, Matcher: &service.Matcher{}, Updates: fakeUpdates{}, Classic: &Classic{}, Notifications: NotificationStore(nil)}
	served := map[string]bool{"/health get": true}
	var routes []route
	routes = append(routes, s.indexerRoutes()...)
	routes = append(routes, s.matcherRoutes()...)
	routes = append(routes, s.Classic.routes("/v1")...)
	routes = append(routes, s.Classic.routes("/api/v1")...)
	routes = append(routes, s.notifierRoutes()...)
	routes = append(routes, route{"/openapi/v1", map[string]http.HandlerFunc{http.MethodGet: nil}})
	for _, rt := range routes {
		for m := range rt.methods {
			served[rt.pattern+" "+strings.ToLower(m)] = true
		}
	}
	documented := map[string]bool{}
	for p, ops := range loadDoc(t).Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented[p+" "+m] = true
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("served, not documented: %s", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("documented, not served: %s", k)
		}
	}
}

// TestOpenAPISchemas checks each schema names the JSON fields its Go type
// marshals, no more and no less.
func TestOpenAPISchemas(t *testing.T) {
	doc := loadDoc(t)
	for name, v := range map[string]any{
		"Manifest": vuln.Manifest{}, "ManifestLayer": vuln.ManifestLayer{},
		"IndexReport": vuln.IndexReport{}, "VulnerabilityReport": vuln.VulnerabilityReport{},
		"Package": vuln.Package{}, "Distribution": vuln.Distribution{}, "Repository": vuln.Repository{},
		"Environment": vuln.Environment{}, "Vulnerability": vuln.Vulnerability{},
		"UpdateOperation": updateOperation{}, "Error": apiError{},
		"Notification": notify.Notification{}, "VulnerabilitySummary": notify.VulnerabilitySummary{},
		"NotificationPage": notificationPage{}, "V1Notification": v1Notification{},
		"V1VulnerabilityWithLayers": v1VulnerabilityWithLayers{}, "V1NotificationEnvelope": struct{ Notification v1Notification }{},
		"V1Layer": v1Layer{}, "V1Feature": v1Feature{}, "V1Vulnerability": v1Vulnerability{}, "V1Namespace": v1Namespace{},
	} {
		sc, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		var want, got []string
		typ := reflect.TypeOf(v)
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if !f.IsExported() || tag == "-" {
				continue
			}
			if tag == "" {
				tag = f.Name
			}
			want = append(want, tag)
		}
		for p := range sc.Properties {
			got = append(got, p)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("schema %s: properties %v, Go fields %v", name, got, want)
		}
	}
}
