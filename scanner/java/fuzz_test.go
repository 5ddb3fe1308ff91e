package java

import (
	"strings"
	"testing"

	"github.com/openclair/clair/scanner/scannertest"
)

func FuzzPomProperties(f *testing.F) {
	for _, s := range []string{log4jCorePom, jacksonDatabindPom, bootAppPom, "a\\\n b=c\\u00", "groupId=\\uZZZZ\nversion=1\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := parsePomProperties(b)
		for _, v := range []string{p.group, p.artifact, p.version} {
			if v != cleanValue(v) {
				t.Fatalf("unclean value %q from %q", v, b)
			}
		}
	})
}

func FuzzManifest(f *testing.F) {
	for _, s := range []string{log4jCoreMF, jacksonDatabindMF, springBeansMF, bootAppMF, "Bundle-SymbolicName: a.b;x\r Bundle-Version: 1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := parseManifest(b)
		for _, v := range []string{p.group, p.artifact, p.version} {
			if v != cleanValue(v) || len(v) > maxValue {
				t.Fatalf("unclean value %q from %q", v, b)
			}
		}
	})
}

// FuzzScan reads arbitrary bytes as a jar, with small budgets: it must not
// fail, panic or report a package without coordinates.
func FuzzScan(f *testing.F) {
	f.Add(log4jCore(f))
	f.Add(jacksonDatabind(f))
	f.Add(manifestOnly(f, springBootMF))
	f.Add(jarOf(f, entry{name: "lib/a-1.jar", data: log4jCore(f), store: true}, entry{name: "b.war", data: jarOf(f, entry{name: "x-2.jar", data: []byte("PK")})}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Scanner{MaxDepth: 3, MaxBytes: 1 << 20, MaxEntries: 1000}
		r, err := scannertest.Consistent(t, s, "f.jar", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Packages {
			if p.PackageDB != "maven:"+p.Path {
				t.Fatalf("bad package %+v", p)
			}
		}
		if len(r.Warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(r.Warnings))
		}
		for _, w := range r.Warnings {
			if !strings.HasPrefix(w, "java: f.jar") {
				t.Fatalf("warning %q does not name the file", w)
			}
		}
	})
}
