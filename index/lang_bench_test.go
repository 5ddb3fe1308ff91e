package index

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/openclair/clair/image"
	"github.com/openclair/clair/internal/sharedtest"
	_ "github.com/openclair/clair/plugins"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/lockfile"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// The language-heavy benchmark image is one layer laid out like a real
// application image: a Next.js app in /app with its node_modules tree, a
// pnpm-installed frontend and a small npm service in /srv, three Python
// environments (a uv venv in /opt, poetry's site-packages in /usr/local, a
// Pipfile's dist-packages), Go executables in /usr/local/bin, a Spring Boot
// fat jar and a few plain jars, the projects' lock files, and ordinary files
// (JavaScript, Python sources, shared libraries, executables): 220 MB
// uncompressed, 84 MB gzipped. Every language package is one published in
// the real lock files of ../shared/testdata/pkgdb/lockfiles, with the name
// and version the lock pins (and, for npm, the dependencies and license);
// the files around it are generated, deterministically.

// langRecipe changes with what buildLangLayer writes, so that a layer cached
// from an older recipe is rebuilt.
const langRecipe = "lang-v3"

// langFiller is the uncompressed size of the generated files of the layer
// (the packages' own files and the ordinary files around them).
const langFiller = 200 << 20

// langInputs are the shared test files the layer is made of.
var langInputs = []string{
	"pkgdb/lockfiles/npm/araidata-security-tracker-package-lock.json",
	"pkgdb/lockfiles/npm/araidata-security-tracker-package.json",
	"pkgdb/lockfiles/npm/nodejs-security-wg-package-lock.json",
	"pkgdb/lockfiles/npm/osv.dev-frontend3-pnpm-lock.yaml",
	"pkgdb/lockfiles/python/langflow-base-uv.lock",
	"pkgdb/lockfiles/python/langflow-base-pyproject.toml",
	"pkgdb/lockfiles/python/osv.dev-poetry.lock",
	"pkgdb/lockfiles/python/osv.dev-pyproject.toml",
	"pkgdb/lockfiles/python/osv.dev-docker-poetry-requirements.txt",
	"pkgdb/lockfiles/python/trivy-ci-test-Pipfile.lock",
	"pkgdb/lockfiles/go/claircore-go.mod",
	"pkgdb/lockfiles/go/claircore-go.sum",
	"pkgdb/lockfiles/go/trivy-go.mod",
	"pkgdb/lockfiles/go/trivy-go.sum",
	"pkgdb/lockfiles/rust/ripgrep-Cargo.lock",
	"pkgdb/lockfiles/rust/trivy-ci-test-Cargo.lock",
	"pkgdb/golang-binaries/trivy-goexperiment.elf",
	"pkgdb/golang-binaries/trivy-main-version-via-ldflags.elf",
	"pkgdb/golang-binaries/trivy-semver-main-module-version.macho",
	"pkgdb/golang-binaries/trivy-test.elf",
}

// mavenArtifacts are published Maven coordinates (group:artifact:version):
// the runtime classpath of a Spring Boot 3.2 web service with JPA, Kafka and
// gRPC clients.
var mavenArtifacts = []string{
	"org.springframework.boot:spring-boot:3.2.4",
	"org.springframework.boot:spring-boot-autoconfigure:3.2.4",
	"org.springframework.boot:spring-boot-jarmode-layertools:3.2.4",
	"org.springframework:spring-core:6.1.5",
	"org.springframework:spring-jcl:6.1.5",
	"org.springframework:spring-beans:6.1.5",
	"org.springframework:spring-context:6.1.5",
	"org.springframework:spring-aop:6.1.5",
	"org.springframework:spring-expression:6.1.5",
	"org.springframework:spring-web:6.1.5",
	"org.springframework:spring-webmvc:6.1.5",
	"org.springframework:spring-jdbc:6.1.5",
	"org.springframework:spring-orm:6.1.5",
	"org.springframework:spring-tx:6.1.5",
	"org.springframework.data:spring-data-jpa:3.2.4",
	"org.springframework.data:spring-data-commons:3.2.4",
	"org.springframework.kafka:spring-kafka:3.1.3",
	"com.fasterxml.jackson.core:jackson-databind:2.15.4",
	"com.fasterxml.jackson.core:jackson-core:2.15.4",
	"com.fasterxml.jackson.core:jackson-annotations:2.15.4",
	"com.fasterxml.jackson.datatype:jackson-datatype-jdk8:2.15.4",
	"com.fasterxml.jackson.datatype:jackson-datatype-jsr310:2.15.4",
	"com.fasterxml.jackson.module:jackson-module-parameter-names:2.15.4",
	"org.apache.tomcat.embed:tomcat-embed-core:10.1.19",
	"org.apache.tomcat.embed:tomcat-embed-el:10.1.19",
	"org.apache.tomcat.embed:tomcat-embed-websocket:10.1.19",
	"org.yaml:snakeyaml:2.2",
	"ch.qos.logback:logback-classic:1.4.14",
	"ch.qos.logback:logback-core:1.4.14",
	"org.slf4j:slf4j-api:2.0.12",
	"org.slf4j:jul-to-slf4j:2.0.12",
	"org.apache.logging.log4j:log4j-api:2.21.1",
	"org.apache.logging.log4j:log4j-to-slf4j:2.21.1",
	"io.micrometer:micrometer-observation:1.12.4",
	"io.micrometer:micrometer-commons:1.12.4",
	"jakarta.annotation:jakarta.annotation-api:2.1.1",
	"jakarta.persistence:jakarta.persistence-api:3.1.0",
	"jakarta.transaction:jakarta.transaction-api:2.0.1",
	"org.hibernate.orm:hibernate-core:6.4.4.Final",
	"org.jboss.logging:jboss-logging:3.5.3.Final",
	"net.bytebuddy:byte-buddy:1.14.12",
	"com.zaxxer:HikariCP:5.0.1",
	"org.postgresql:postgresql:42.7.3",
	"org.apache.kafka:kafka-clients:3.6.1",
	"com.github.luben:zstd-jni:1.5.5-6",
	"org.lz4:lz4-java:1.8.0",
	"org.xerial.snappy:snappy-java:1.1.10.5",
	"io.grpc:grpc-api:1.62.2",
	"io.grpc:grpc-core:1.62.2",
	"io.grpc:grpc-netty-shaded:1.62.2",
	"io.grpc:grpc-protobuf:1.62.2",
	"io.grpc:grpc-stub:1.62.2",
	"com.google.protobuf:protobuf-java:3.25.3",
	"com.google.guava:guava:32.1.3-jre",
	"com.google.guava:failureaccess:1.0.1",
	"com.google.code.gson:gson:2.10.1",
	"com.google.errorprone:error_prone_annotations:2.23.0",
	"org.checkerframework:checker-qual:3.42.0",
	"com.github.ben-manes.caffeine:caffeine:3.1.8",
	"org.apache.commons:commons-lang3:3.14.0",
	"org.apache.commons:commons-compress:1.26.1",
	"commons-io:commons-io:2.15.1",
	"commons-codec:commons-codec:1.16.1",
	"org.apache.httpcomponents.client5:httpclient5:5.3.1",
	"org.apache.httpcomponents.core5:httpcore5:5.2.4",
	"io.netty:netty-common:4.1.107.Final",
	"io.netty:netty-buffer:4.1.107.Final",
	"io.netty:netty-handler:4.1.107.Final",
	"io.netty:netty-transport:4.1.107.Final",
	"io.netty:netty-codec:4.1.107.Final",
	"io.netty:netty-codec-http:4.1.107.Final",
	"io.netty:netty-resolver:4.1.107.Final",
	"io.projectreactor:reactor-core:3.6.4",
	"org.reactivestreams:reactive-streams:1.0.4",
	"org.bouncycastle:bcprov-jdk18on:1.77",
	"org.hdrhistogram:HdrHistogram:2.1.12",
	"org.latencyutils:LatencyUtils:2.0.3",
}

// plainJars are the artifacts also installed as plain jars, Debian style,
// in usr/share/java (by index into mavenArtifacts).
var plainJars = []int{17, 18, 19, 26, 29, 53, 59, 61, 62}

// langLayout returns an OCI layout holding the language-heavy image and its
// layer blob, building them (once; they are kept in the system temp folder
// under a name that changes with the recipe and the inputs) if needed.
func langLayout(b *testing.B) (dir, blob string) {
	b.Helper()
	h := sha256.New()
	fmt.Fprint(h, langRecipe, langFiller, mavenArtifacts, plainJars)
	inputs := map[string]string{}
	for _, rel := range langInputs {
		p := sharedtest.Path(b, rel)
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprint(h, rel, st.Size(), st.ModTime().UnixNano())
		inputs[rel] = p
	}
	dir = filepath.Join(os.TempDir(), "openclair-lang-bench-"+hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
		b.Logf("building the language-heavy image in %s (once)", dir)
		os.RemoveAll(dir)
		t0 := time.Now()
		if err := buildLangLayout(dir, inputs); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("built in %v", time.Since(t0).Round(time.Millisecond))
	}
	img, err := image.Open(context.Background(), "oci:"+dir, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	if len(img.Layers) != 1 {
		b.Fatalf("%d layers, want 1", len(img.Layers))
	}
	return dir, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(img.Layers[0].Digest, "sha256:"))
}

func buildLangLayout(dir string, inputs map[string]string) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	l, err := buildLangLayer(blobs, inputs)
	if err != nil {
		return err
	}
	return writeLayout(dir, []builtLayer{l})
}

// langTar writes the layer's entries, with their parent folders.
type langTar struct {
	tw   *tar.Writer
	dirs map[string]bool
	err  error
	// files counts the regular files written.
	files int
}

func (t *langTar) parents(name string) {
	var ps []string
	for d := path.Dir(name); d != "." && !t.dirs[d]; d = path.Dir(d) {
		ps = append(ps, d)
	}
	for i := len(ps) - 1; i >= 0 && t.err == nil; i-- {
		t.dirs[ps[i]] = true
		t.err = t.tw.WriteHeader(&tar.Header{Name: ps[i] + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch})
	}
}

func (t *langTar) file(name string, mode int64, body []byte) {
	if t.err != nil {
		return
	}
	t.parents(name)
	if t.err != nil {
		return
	}
	t.files++
	t.err = t.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), ModTime: epoch})
	if t.err == nil {
		_, t.err = t.tw.Write(body)
	}
}

func (t *langTar) symlink(name, target string) {
	if t.err != nil {
		return
	}
	t.parents(name)
	if t.err == nil {
		t.err = t.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777, ModTime: epoch})
	}
}

// filler makes file contents that compress like the real thing: a text
// corpus (source code: identifiers, punctuation, indentation; 4.1x with
// gzip) and a binary one (machine code and data: short tokens with a Zipf
// distribution and some noise; 2.45x), each made once and cut at random
// offsets.
type filler struct {
	r            *rand.Rand
	text, binary []byte
	spent        int64 // filler bytes handed out
}

func newFiller() *filler {
	f := &filler{r: rand.New(rand.NewPCG(1, 2))}
	f.text = f.corpus(8<<20, true)
	f.binary = f.corpus(8<<20, false)
	return f
}

func (f *filler) corpus(n int, text bool) []byte {
	r := f.r
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"
	vocab := make([][]byte, 1<<12)
	for i := range vocab {
		var w []byte
		if text {
			w = make([]byte, 2+r.IntN(10))
			for j := range w {
				w[j] = letters[r.IntN(52)]
			}
			switch r.IntN(8) {
			case 0:
				w = append(w, "("...)
			case 1:
				w = append(w, ") {\n    "...)
			case 2:
				w = append(w, ";\n  "...)
			case 3:
				w = append(w, ", "...)
			case 4:
				w = append(w, "."...)
			default:
				w = append(w, ' ')
			}
		} else {
			w = make([]byte, 2+r.IntN(8))
			for j := range w {
				// Machine code and data are heavy in small values.
				if r.IntN(3) == 0 {
					w[j] = 0
				} else {
					w[j] = byte(r.UintN(256))
				}
			}
		}
		vocab[i] = w
	}
	z := rand.NewZipf(r, 1.2, 1, uint64(len(vocab)-1))
	out := make([]byte, 0, n+64)
	for len(out) < n {
		if !text && r.IntN(12) == 0 {
			// Noise: constants, addresses, compressed resources.
			for range 1 + r.IntN(6) {
				out = append(out, byte(r.UintN(256)))
			}
			continue
		}
		out = append(out, vocab[z.Uint64()]...)
	}
	return out[:n]
}

// take returns n bytes of the corpus (at most its size).
func (f *filler) take(n int, text bool) []byte {
	c := f.binary
	if text {
		c = f.text
	}
	if n > len(c) {
		n = len(c)
	}
	f.spent += int64(n)
	off := f.r.IntN(len(c) - n + 1)
	return c[off : off+n]
}

// size draws a file size: log-uniform between lo and hi.
func (f *filler) size(lo, hi int) int {
	return int(float64(lo) * math.Pow(float64(hi)/float64(lo), f.r.Float64()))
}

// lockPackages reads the packages a lock file pins, with the lock file
// scanner: base is the name it is read as ("poetry.lock").
func lockPackages(p, base string) ([]*vuln.Package, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	res, err := (&lockfile.Scanner{}).Scan(context.Background(), scanner.File{Path: base, Size: int64(len(b)), R: bytes.NewReader(b)})
	if err != nil {
		return nil, err
	}
	if len(res.Packages) == 0 {
		return nil, fmt.Errorf("%s: no packages: %v", p, res.Warnings)
	}
	return res.Packages, nil
}

// npmLock is the part of a package-lock.json (v2, v3) used here.
type npmLock struct {
	Packages map[string]struct {
		Version      string            `json:"version"`
		License      json.RawMessage   `json:"license"`
		Dependencies map[string]string `json:"dependencies"`
		Engines      json.RawMessage   `json:"engines"`
		Bin          json.RawMessage   `json:"bin"`
		Link         bool              `json:"link"`
	} `json:"packages"`
}

var licenses = []string{"MIT", "MIT", "MIT", "ISC", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause"}

// npmPackage writes one installed npm package: its package.json, shaped
// like a published one, and its files.
func npmPackage(t *langTar, f *filler, dir, name, version string, license json.RawMessage, deps map[string]string, engines json.RawMessage) {
	pj := map[string]any{
		"name":        name,
		"version":     version,
		"description": fmt.Sprintf("%s: the %s module, version %s", name, path.Base(name), version),
		"main":        "index.js",
		"files":       []string{"index.js", "lib/", "dist/"},
		"repository":  map[string]string{"type": "git", "url": "git+https://github.com/" + strings.TrimPrefix(name, "@") + ".git"},
		"keywords":    []string{path.Base(name), "javascript"},
		"scripts":     map[string]string{"test": "node test.js", "build": "tsc -p ."},
	}
	if len(license) > 0 {
		pj["license"] = license
	} else {
		pj["license"] = licenses[f.r.IntN(len(licenses))]
	}
	if len(deps) > 0 {
		pj["dependencies"] = deps
	}
	if len(engines) > 0 {
		pj["engines"] = engines
	}
	b, _ := json.MarshalIndent(pj, "", "  ")
	t.file(dir+"/package.json", 0o644, append(b, '\n'))
	t.file(dir+"/LICENSE", 0o644, []byte(fmt.Sprintf("The MIT License (MIT)\n\nCopyright (c) %s contributors\n\n%s", name, f.take(900, true))))
	t.file(dir+"/README.md", 0o644, f.take(f.size(500, 20<<10), true))
	t.file(dir+"/index.js", 0o644, f.take(f.size(200, 8<<10), true))
	for i := range f.r.IntN(4) {
		t.file(fmt.Sprintf("%s/lib/m%d.js", dir, i), 0o644, f.take(f.size(1<<10, 32<<10), true))
	}
	if f.r.IntN(4) == 0 {
		t.file(dir+"/dist/index.min.js", 0o644, f.take(f.size(4<<10, 128<<10), true))
		t.file(dir+"/index.d.ts", 0o644, f.take(f.size(300, 16<<10), true))
	}
}

// pyDist writes one installed Python distribution: its .dist-info folder
// (METADATA, RECORD, WHEEL, INSTALLER, top_level.txt, a license) and its
// modules.
func pyDist(t *langTar, f *filler, sp, name, version string) {
	mod := strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	info := fmt.Sprintf("%s/%s-%s.dist-info", sp, mod, version)
	var files []string
	var sizes []int
	add := func(p string, mode int64, body []byte) {
		t.file(sp+"/"+p, mode, body)
		files = append(files, p)
		sizes = append(sizes, len(body))
	}
	add(mod+"/__init__.py", 0o644, f.take(f.size(100, 8<<10), true))
	for i := range f.r.IntN(7) {
		add(fmt.Sprintf("%s/m%d.py", mod, i), 0o644, f.take(f.size(1<<10, 32<<10), true))
	}
	if f.r.IntN(10) == 0 {
		add(mod+"/_speedups.cpython-312-x86_64-linux-gnu.so", 0o755, f.take(f.size(64<<10, 1<<20), false))
	}
	meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: The %s distribution\nHome-page: https://pypi.org/project/%s/\nAuthor: %s maintainers\nLicense: %s\n"+
		"Classifier: Programming Language :: Python :: 3\nClassifier: Operating System :: OS Independent\nRequires-Python: >=3.8\nDescription-Content-Type: text/markdown\n\n# %s\n\n%s\n",
		name, version, name, name, name, licenses[f.r.IntN(len(licenses))], name, f.take(f.size(500, 24<<10), true))
	t.file(info+"/METADATA", 0o644, []byte(meta))
	t.file(info+"/WHEEL", 0o644, []byte("Wheel-Version: 1.0\nGenerator: bdist_wheel (0.42.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
	t.file(info+"/INSTALLER", 0o644, []byte("pip\n"))
	t.file(info+"/top_level.txt", 0o644, []byte(mod+"\n"))
	lic := append([]byte("Copyright (c) the authors\n\n"), f.take(1200, true)...)
	t.file(info+"/LICENSE", 0o644, lic)
	var rec bytes.Buffer
	for i, p := range files {
		s := sha256.Sum256([]byte(p))
		fmt.Fprintf(&rec, "%s,sha256=%s,%d\n", p, base64.RawURLEncoding.EncodeToString(s[:]), sizes[i])
	}
	for _, p := range []string{"METADATA", "WHEEL", "INSTALLER", "top_level.txt", "LICENSE"} {
		fmt.Fprintf(&rec, "%s-%s.dist-info/%s,sha256=%s,%d\n", mod, version, p, strings.Repeat("A", 43), 100)
	}
	fmt.Fprintf(&rec, "%s-%s.dist-info/RECORD,,\n", mod, version)
	t.file(info+"/RECORD", 0o644, rec.Bytes())
}

// jarOf builds a jar of the coordinates: manifest, pom.properties, pom.xml
// and classes.
func jarOf(f *filler, coord string) ([]byte, error) {
	parts := strings.Split(coord, ":")
	g, a, v := parts[0], parts[1], parts[2]
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name string, body []byte, method uint16) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: epoch})
		if err != nil {
			return err
		}
		_, err = w.Write(body)
		return err
	}
	mf := fmt.Sprintf("Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 17\r\nImplementation-Title: %s\r\nImplementation-Version: %s\r\nAutomatic-Module-Name: %s\r\n\r\n", a, v, strings.ReplaceAll(g+"."+a, "-", "."))
	if err := write("META-INF/MANIFEST.MF", []byte(mf), zip.Deflate); err != nil {
		return nil, err
	}
	pom := fmt.Sprintf("#Created by Apache Maven 3.9.6\ngroupId=%s\nartifactId=%s\nversion=%s\n", g, a, v)
	if err := write("META-INF/maven/"+g+"/"+a+"/pom.properties", []byte(pom), zip.Deflate); err != nil {
		return nil, err
	}
	xml := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>%s</groupId>\n  <artifactId>%s</artifactId>\n  <version>%s</version>\n</project>\n", g, a, v)
	if err := write("META-INF/maven/"+g+"/"+a+"/pom.xml", []byte(xml), zip.Deflate); err != nil {
		return nil, err
	}
	pkg := strings.ReplaceAll(g, ".", "/")
	for i := range 10 + f.r.IntN(80) {
		if err := write(fmt.Sprintf("%s/C%d.class", pkg, i), f.take(f.size(512, 24<<10), false), zip.Deflate); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fatJar builds a Spring Boot executable jar: the application's classes
// and every library stored (uncompressed) in BOOT-INF/lib, as Spring Boot
// lays them out.
func fatJar(f *filler, libs map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	mf := "Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\nStart-Class: com.example.tracker.Application\r\nSpring-Boot-Version: 3.2.4\r\nSpring-Boot-Classes: BOOT-INF/classes/\r\nSpring-Boot-Lib: BOOT-INF/lib/\r\nImplementation-Title: tracker\r\nImplementation-Version: 0.0.1-SNAPSHOT\r\n\r\n"
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "META-INF/MANIFEST.MF", Method: zip.Deflate, Modified: epoch})
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, mf); err != nil {
		return nil, err
	}
	for i := range 200 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("BOOT-INF/classes/com/example/tracker/C%d.class", i), Method: zip.Deflate, Modified: epoch})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.take(f.size(512, 16<<10), false)); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(libs))
	for n := range libs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "BOOT-INF/lib/" + n, Method: zip.Store, Modified: epoch})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(libs[n]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func buildLangLayer(blobs string, in map[string]string) (builtLayer, error) {
	tmp, err := os.CreateTemp(blobs, "layer-*")
	if err != nil {
		return builtLayer{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	comp := &countingWriter{w: tmp, h: sha256.New()}
	bw := bufio.NewWriterSize(comp, 1<<20)
	zw := gzip.NewWriter(bw)
	plain := &countingWriter{w: zw, h: sha256.New()}
	t := &langTar{tw: tar.NewWriter(plain), dirs: map[string]bool{}}
	f := newFiller()
	read := func(rel string) []byte {
		b, err := os.ReadFile(in[rel])
		if err != nil && t.err == nil {
			t.err = err
		}
		return b
	}

	// A Debian base: what the language runtimes stand on.
	t.file("etc/os-release", 0o644, []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"))
	for i := range 30 {
		t.file(fmt.Sprintf("usr/lib/x86_64-linux-gnu/lib%c%c%d.so.%d", 'a'+i%26, 'a'+i/26, i, 1+i%3), 0o644, f.take(f.size(64<<10, 4<<20), false))
	}
	for i := range 40 {
		t.file(fmt.Sprintf("usr/bin/tool%02d", i), 0o755, append([]byte("\x7fELF\x02\x01\x01\x00"), f.take(f.size(16<<10, 2<<20), false)...))
	}

	// The Next.js app: its manifest and lock file as published, and the
	// node_modules tree the lock file describes, nested as npm installs it.
	npmTree := func(root, lockRel string) {
		var lock npmLock
		if err := json.Unmarshal(read(lockRel), &lock); err != nil && t.err == nil {
			t.err = fmt.Errorf("%s: %w", lockRel, err)
		}
		t.file(root+"/package-lock.json", 0o644, read(lockRel))
		keys := make([]string, 0, len(lock.Packages))
		for k := range lock.Packages {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := lock.Packages[k]
			i := strings.LastIndex(k, "node_modules/")
			if i < 0 || p.Link || p.Version == "" {
				continue
			}
			npmPackage(t, f, root+"/"+k, k[i+len("node_modules/"):], p.Version, p.License, p.Dependencies, p.Engines)
		}
	}
	t.file("app/package.json", 0o644, read("pkgdb/lockfiles/npm/araidata-security-tracker-package.json"))
	npmTree("app", "pkgdb/lockfiles/npm/araidata-security-tracker-package-lock.json")
	for i := range 150 {
		t.file(fmt.Sprintf("app/.next/static/chunks/%d-%x.js", i, f.r.Uint32()), 0o644, f.take(f.size(4<<10, 512<<10), true))
	}
	t.file("srv/security-wg/package.json", 0o644, []byte(`{"name":"security-wg","version":"1.0.0","license":"MIT","private":true}`+"\n"))
	npmTree("srv/security-wg", "pkgdb/lockfiles/npm/nodejs-security-wg-package-lock.json")

	// The pnpm frontend: every package in the virtual store, with the
	// top-level symlinks pnpm makes for the direct dependencies.
	pnpm, err := lockPackages(in["pkgdb/lockfiles/npm/osv.dev-frontend3-pnpm-lock.yaml"], "pnpm-lock.yaml")
	if err != nil {
		return builtLayer{}, err
	}
	t.file("srv/frontend/pnpm-lock.yaml", 0o644, read("pkgdb/lockfiles/npm/osv.dev-frontend3-pnpm-lock.yaml"))
	t.file("srv/frontend/package.json", 0o644, []byte(`{"name":"osv-frontend3","private":true,"scripts":{"build":"webpack"}}`+"\n"))
	for _, p := range pnpm {
		store := "srv/frontend/node_modules/.pnpm/" + strings.ReplaceAll(p.Name, "/", "+") + "@" + p.Version + "/node_modules/" + p.Name
		npmPackage(t, f, store, p.Name, p.Version, nil, nil, nil)
		if f.r.IntN(4) == 0 {
			t.symlink("srv/frontend/node_modules/"+p.Name, strings.Repeat("../", strings.Count(p.Name, "/"))+".pnpm/"+strings.ReplaceAll(p.Name, "/", "+")+"@"+p.Version+"/node_modules/"+p.Name)
		}
	}

	// Python: a uv venv (langflow), poetry's packages installed in the
	// system interpreter (osv.dev), a Pipfile's in dist-packages.
	for _, py := range []struct{ lock, base, sp, src string }{
		{"pkgdb/lockfiles/python/langflow-base-uv.lock", "uv.lock", "opt/langflow/.venv/lib/python3.12/site-packages", "opt/langflow"},
		{"pkgdb/lockfiles/python/osv.dev-poetry.lock", "poetry.lock", "usr/local/lib/python3.11/site-packages", "srv/osv"},
		{"pkgdb/lockfiles/python/trivy-ci-test-Pipfile.lock", "Pipfile.lock", "usr/lib/python3/dist-packages", "srv/pipapp"},
	} {
		pkgs, err := lockPackages(in[py.lock], py.base)
		if err != nil {
			return builtLayer{}, err
		}
		seen := map[string]bool{}
		for _, p := range pkgs {
			if seen[p.Name] {
				continue // one installed version of a name per environment
			}
			seen[p.Name] = true
			pyDist(t, f, py.sp, p.Name, p.Version)
		}
		t.file(py.src+"/"+py.base, 0o644, read(py.lock))
	}
	t.file("opt/langflow/pyproject.toml", 0o644, read("pkgdb/lockfiles/python/langflow-base-pyproject.toml"))
	t.file("srv/osv/pyproject.toml", 0o644, read("pkgdb/lockfiles/python/osv.dev-pyproject.toml"))
	t.file("srv/osv/docker/requirements.txt", 0o644, read("pkgdb/lockfiles/python/osv.dev-docker-poetry-requirements.txt"))
	for i := range 12 {
		t.file(fmt.Sprintf("usr/local/lib/python3.11/lib-dynload/_m%d.cpython-311-x86_64-linux-gnu.so", i), 0o644, f.take(f.size(32<<10, 2<<20), false))
	}

	// Go: executables, and the sources of two modules.
	for _, g := range []struct{ rel, to string }{
		{"pkgdb/golang-binaries/trivy-goexperiment.elf", "usr/local/bin/trivy"},
		{"pkgdb/golang-binaries/trivy-main-version-via-ldflags.elf", "usr/local/bin/trivy-ldflags"},
		{"pkgdb/golang-binaries/trivy-test.elf", "opt/tools/trivy-test"},
		{"pkgdb/golang-binaries/trivy-semver-main-module-version.macho", "opt/tools/darwin/trivy"},
	} {
		t.file(g.to, 0o755, read(g.rel))
	}
	for _, m := range []string{"claircore", "trivy"} {
		t.file("src/"+m+"/go.mod", 0o644, read("pkgdb/lockfiles/go/"+m+"-go.mod"))
		t.file("src/"+m+"/go.sum", 0o644, read("pkgdb/lockfiles/go/"+m+"-go.sum"))
		for i := range 40 {
			t.file(fmt.Sprintf("src/%s/pkg/p%d/p%d.go", m, i/4, i), 0o644, f.take(f.size(1<<10, 48<<10), true))
		}
	}
	t.file("src/ripgrep/Cargo.lock", 0o644, read("pkgdb/lockfiles/rust/ripgrep-Cargo.lock"))
	t.file("src/trivy-ci-test/Cargo.lock", 0o644, read("pkgdb/lockfiles/rust/trivy-ci-test-Cargo.lock"))

	// Java: a Spring Boot fat jar and some plain jars.
	libs := map[string][]byte{}
	for i, c := range mavenArtifacts {
		j, err := jarOf(f, c)
		if err != nil {
			return builtLayer{}, err
		}
		parts := strings.Split(c, ":")
		libs[parts[1]+"-"+parts[2]+".jar"] = j
		for _, k := range plainJars {
			if k == i {
				t.file("usr/share/java/"+parts[1]+"-"+parts[2]+".jar", 0o644, j)
			}
		}
	}
	fat, err := fatJar(f, libs)
	if err != nil {
		return builtLayer{}, err
	}
	t.file("opt/service/app.jar", 0o644, fat)

	// The rest of the filler: more of the app's static files and shared
	// libraries, half and half.
	for i := 0; f.spent < langFiller; i++ {
		if i%2 == 0 {
			t.file(fmt.Sprintf("app/public/assets/a%d.js", i), 0o644, f.take(f.size(8<<10, 1<<20), true))
		} else {
			t.file(fmt.Sprintf("usr/lib/x86_64-linux-gnu/libextra%d.so.0", i), 0o644, f.take(f.size(64<<10, 4<<20), false))
		}
	}

	if t.err != nil {
		return builtLayer{}, t.err
	}
	if err := t.tw.Close(); err != nil {
		return builtLayer{}, err
	}
	if err := zw.Close(); err != nil {
		return builtLayer{}, err
	}
	if err := bw.Flush(); err != nil {
		return builtLayer{}, err
	}
	if err := tmp.Close(); err != nil {
		return builtLayer{}, err
	}
	l := builtLayer{
		digest: "sha256:" + hex.EncodeToString(comp.h.Sum(nil)),
		diffID: "sha256:" + hex.EncodeToString(plain.h.Sum(nil)),
		size:   comp.n,
		usize:  plain.n,
	}
	return l, os.Rename(tmp.Name(), filepath.Join(blobs, strings.TrimPrefix(l.digest, "sha256:")))
}

// gunzipDiscard is the floor: the layer inflated to io.Discard with the
// decompressor the indexer uses, one thread, as one layer is indexed.
func gunzipDiscard(b *testing.B, blob string) int64 {
	f, err := os.Open(blob)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// langIndex opens the image and indexes it with every registered scanner,
// caching into st (a fresh store: a first scan, cache misses and writes).
func langIndex(b *testing.B, dir string, st LayerStore) *vuln.IndexReport {
	img, err := image.Open(context.Background(), "oci:"+dir, image.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	r, err := (&Indexer{Store: st, Scanners: scanner.All()}).Index(context.Background(), img)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkIndexLanguageHeavy measures, in one run, a cold index of a one
// layer application image holding thousands of language packages (npm,
// pnpm, PyPI, Maven, Go) among ordinary files (220 MB uncompressed), with every
// scanner and a fresh SQLite store, against inflating the layer to
// io.Discard. The target is x-gunzip <= 1.5. gzip-dc-s/op is `gzip -dc` of
// the layer, the floor BenchmarkIndexVsGunzip uses, for comparison.
func BenchmarkIndexLanguageHeavy(b *testing.B) {
	dir, blob := langLayout(b)
	st, err := os.Stat(blob)
	if err != nil {
		b.Fatal(err)
	}
	_, noGzip := exec.LookPath("gzip")
	// Warm the page cache, so that neither side pays for the disk.
	usize := gunzipDiscard(b, blob)
	b.ResetTimer()
	var tg, ti, tz time.Duration
	var r *vuln.IndexReport
	for i := range b.N {
		t0 := time.Now()
		gunzipDiscard(b, blob)
		tg += time.Since(t0)

		b.StopTimer()
		store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), fmt.Sprint(i), "clair.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 = time.Now()
		r = langIndex(b, dir, store)
		ti += time.Since(t0)
		b.StopTimer()
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
		if noGzip == nil {
			t0 = time.Now()
			gunzipAll(b, []string{blob})
			tz += time.Since(t0)
		}
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(tg.Seconds()/n, "gunzip-s/op")
	b.ReportMetric(ti.Seconds()/n, "index-s/op")
	b.ReportMetric(ti.Seconds()/tg.Seconds(), "x-gunzip")
	if noGzip == nil {
		b.ReportMetric(tz.Seconds()/n, "gzip-dc-s/op")
		b.ReportMetric(ti.Seconds()/tz.Seconds(), "x-gzip-dc")
	}
	b.ReportMetric(float64(len(r.Packages)), "packages")
	b.ReportMetric(float64(st.Size())/1e6, "compressed-MB")
	b.ReportMetric(float64(usize)/1e6, "uncompressed-MB")
	byEco := map[string]int{}
	for _, p := range r.Packages {
		byEco[p.Ecosystem]++
	}
	b.Logf("packages by ecosystem: %v; warnings: %d", byEco, len(r.Warnings))
	if len(r.Packages) < 3000 {
		b.Errorf("%d packages, want 3000 or more", len(r.Packages))
	}
}
