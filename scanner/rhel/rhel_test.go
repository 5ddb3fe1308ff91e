package rhel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
)

// ubi9Manifest has the shape of the content manifests in Red Hat's ubi9
// images (root/buildinfo/content_manifests/ubi9-container-*.json); the
// content sets are real ones of the mapping.
const ubi9Manifest = `{
  "metadata": {"icm_version": 1, "icm_spec": "https://raw.githubusercontent.com/containerbuildsystem/atomic-reactor/master/atomic_reactor/schemas/content_manifest.json", "image_layer_index": 0},
  "content_sets": ["rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms", "rhel-9-for-x86_64-baseos-rpms", "no-such-content-set"],
  "image_contents": []
}`

func scan(t *testing.T, s *Scanner, p, content string) *scanner.Result {
	t.Helper()
	res, err := s.Scan(context.Background(), scanner.File{Path: p, Size: int64(len(content)), R: strings.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWants(t *testing.T) {
	s := &Scanner{}
	scannertest.Wants(t, s, map[string]bool{
		"root/buildinfo/content_manifests/ubi9-container-9.4-1123.json": true,
		"root/buildinfo/content_manifests/sub/x.json":                   false,
		"root/buildinfo/Dockerfile-ubi9-9.4-1123":                       false,
		"root/buildinfo/content_manifests/x.txt":                        false,
	})
}

func TestScan(t *testing.T) {
	res := scan(t, &Scanner{}, "root/buildinfo/content_manifests/ubi9.json", ubi9Manifest)
	var got []string
	for _, r := range res.Repositories {
		if r.Key != RepositoryKey {
			t.Errorf("key %q", r.Key)
		}
		got = append(got, r.Name+" "+r.CPE)
	}
	// A content set the embedded mapping does not know is recorded
	// without a CPE: the matcher maps it with the redhat-repo2cpe feed.
	want := []string{
		"no-such-content-set ",
		"rhel-9-for-x86_64-appstream-rpms cpe:/a:redhat:enterprise_linux:9::appstream",
		"rhel-9-for-x86_64-baseos-rpms cpe:/o:redhat:enterprise_linux:9::baseos",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q", res.Warnings)
	}

	// One repository per content set and CPE; names are trimmed once.
	res = scan(t, &Scanner{}, "root/buildinfo/content_manifests/x.json", `{"content_sets": [" rhel-8-for-x86_64-appstream-rpms", "rhel-8-for-x86_64-appstream-rpms", ""]}`)
	got = got[:0]
	for _, r := range res.Repositories {
		got = append(got, r.Name+" "+r.CPE)
	}
	want = []string{
		"rhel-8-for-x86_64-appstream-rpms cpe:/a:redhat:enterprise_linux:8::appstream",
		"rhel-8-for-x86_64-appstream-rpms cpe:/a:redhat:rhel:8.3::appstream",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("multi-CPE content set: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	res = scan(t, &Scanner{}, "root/buildinfo/content_manifests/bad.json", `{"content_sets": [`)
	if len(res.Repositories) != 0 || len(res.Warnings) != 1 {
		t.Errorf("damaged manifest: %+v", res)
	}
}

// TestMapping reads the embedded copy of Red Hat's real mapping.
func TestMapping(t *testing.T) {
	m, err := ParseMapping("embedded", defaultMapping)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) < 8000 {
		t.Errorf("%d content sets", len(m))
	}
	if got := m["rhel-8-for-x86_64-appstream-rpms"]; len(got) != 2 || got[0] != "cpe:/a:redhat:enterprise_linux:8::appstream" {
		t.Errorf("rhel-8-for-x86_64-appstream-rpms: %v", got)
	}
}

func TestMappingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "repository-to-cpe.json")
	if err := os.WriteFile(p, []byte(`{"data": {"my-rpms": {"cpes": ["cpe:/o:redhat:enterprise_linux:9::baseos"]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := scan(t, &Scanner{MappingFile: p}, "root/buildinfo/content_manifests/x.json", `{"content_sets": ["my-rpms"]}`)
	if len(res.Repositories) != 1 || res.Repositories[0].CPE != "cpe:/o:redhat:enterprise_linux:9::baseos" {
		t.Errorf("%+v", res)
	}
	if _, err := (&Scanner{MappingFile: p + ".missing"}).Scan(context.Background(), scanner.File{Path: "x.json", R: strings.NewReader("{}")}); err == nil {
		t.Error("missing mapping file: no error")
	}
}
