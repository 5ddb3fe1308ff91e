// Package deploy holds the deployment files (the sample config and the
// Kubernetes manifests); its tests check them, so that a manifest that
// would not apply, or a config the server would refuse, fails CI instead of
// a deployment.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/feed"
	_ "github.com/openclair/clair/plugins" // the feeds updaters.sets may name
)

// obj is one decoded YAML document.
type obj = map[string]any

// docs decodes every document of a YAML file; empty documents (a trailing
// "---") are dropped.
func docs(t *testing.T, path string) []obj {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []obj
	for i := 0; ; i++ {
		var o obj
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i+1, err)
		}
		if o != nil {
			out = append(out, o)
		}
	}
}

// get walks a path of map keys and list indexes; nil when absent.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestYAMLParses(t *testing.T) {
	files := append(yamlFiles(t, "."), "../docker-compose.yml")
	if len(files) < 7 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if len(docs(t, f)) == 0 {
			t.Errorf("%s: no documents", f)
		}
	}
}

// validModes are the server's -mode values.
var validModes = []string{"combo", "indexer", "matcher", "notifier"}

// modeOf returns the -mode argument of a command line ("-mode X",
// "--mode X", "-mode=X").
func modeOf(args []any) (string, bool) {
	for i, a := range args {
		s, _ := a.(string)
		for _, flag := range []string{"-mode", "--mode"} {
			if s == flag && i+1 < len(args) {
				v, _ := args[i+1].(string)
				return v, true
			}
			if v, ok := strings.CutPrefix(s, flag+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// cluster is the objects of one kubectl-apply folder, by kind and name.
type cluster map[string]map[string]obj

func load(t *testing.T, dir string) cluster {
	t.Helper()
	c := cluster{}
	for _, f := range yamlFiles(t, dir) {
		for i, o := range docs(t, f) {
			where := fmt.Sprintf("%s: document %d", f, i+1)
			api, kind, name := str(o, "apiVersion"), str(o, "kind"), str(o, "metadata", "name")
			if api == "" || kind == "" || name == "" {
				t.Errorf("%s: apiVersion %q, kind %q, metadata.name %q: all three are required", where, api, kind, name)
				continue
			}
			if c[kind] == nil {
				c[kind] = map[string]obj{}
			}
			if _, dup := c[kind][name]; dup {
				t.Errorf("%s: a second %s %q", where, kind, name)
			}
			c[kind][name] = o
		}
	}
	return c
}

// subset reports whether every key of sel has the same value in labels.
func subset(sel, labels any) bool {
	s, _ := sel.(obj)
	l, _ := labels.(obj)
	if len(s) == 0 {
		return false
	}
	for k, v := range s {
		if l[k] != v {
			return false
		}
	}
	return true
}

// checkDeployments checks every Deployment of a folder and returns the
// modes its containers run.
func checkDeployments(t *testing.T, dir string, c cluster) []string {
	t.Helper()
	var modes []string
	for name, d := range c["Deployment"] {
		where := dir + ": Deployment " + name
		pod := get(d, "spec", "template", "spec")
		if !subset(get(d, "spec", "selector", "matchLabels"), get(d, "spec", "template", "metadata", "labels")) {
			t.Errorf("%s: selector does not match the pod labels", where)
		}
		if get(pod, "securityContext", "runAsNonRoot") != true {
			t.Errorf("%s: pod securityContext.runAsNonRoot is not true", where)
		}
		if uid, _ := get(pod, "securityContext", "runAsUser").(int); uid == 0 {
			t.Errorf("%s: runAsUser %v, want a non-root uid", where, get(pod, "securityContext", "runAsUser"))
		}
		for _, v := range list(pod, "volumes") {
			if cm := str(v, "configMap", "name"); cm != "" && c["ConfigMap"][cm] == nil {
				t.Errorf("%s: volume from ConfigMap %q, which is not in %s", where, cm, dir)
			}
		}
		for i, ct := range list(pod, "containers") {
			cw := fmt.Sprintf("%s: container %d", where, i)
			mode, ok := modeOf(append(list(ct, "command"), list(ct, "args")...))
			switch {
			case !ok:
				t.Errorf("%s: no -mode argument", cw)
			case !slices.Contains(validModes, mode):
				t.Errorf("%s: -mode %q, want one of %v", cw, mode, validModes)
			default:
				modes = append(modes, mode)
			}
			ports := map[string]int{}
			for _, p := range list(ct, "ports") {
				n, _ := get(p, "containerPort").(int)
				ports[str(p, "name")] = n
			}
			for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
				got := str(ct, probe, "httpGet", "path")
				port := get(ct, probe, "httpGet", "port")
				if pn, ok := port.(string); ok {
					port = ports[pn]
				}
				if got != path || port != 8089 {
					t.Errorf("%s: %s is %v on port %v, want %s on the introspection port 8089", cw, probe, got, port, path)
				}
			}
			if get(ct, "securityContext", "allowPrivilegeEscalation") != false {
				t.Errorf("%s: allowPrivilegeEscalation is not false", cw)
			}
			if get(ct, "resources", "requests", "memory") == nil || get(ct, "resources", "limits", "memory") == nil {
				t.Errorf("%s: no memory request and limit", cw)
			}
			for _, e := range list(ct, "env") {
				if s := str(e, "valueFrom", "secretKeyRef", "name"); s != "" {
					key := str(e, "valueFrom", "secretKeyRef", "key")
					if sec := c["Secret"][s]; sec == nil || get(sec, "stringData", key) == nil && get(sec, "data", key) == nil {
						t.Errorf("%s: env %s from Secret %s key %s, which is not in %s", cw, str(e, "name"), s, key, dir)
					}
				}
			}
		}
	}
	sort.Strings(modes)
	return modes
}

// checkServices checks that every Service selects the pods of some
// Deployment of the folder.
func checkServices(t *testing.T, dir string, c cluster) {
	t.Helper()
	for name, s := range c["Service"] {
		found := false
		for _, d := range c["Deployment"] {
			if subset(get(s, "spec", "selector"), get(d, "spec", "template", "metadata", "labels")) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: Service %s selects no Deployment's pods", dir, name)
		}
		// The introspection address (metrics, probes, profiles) is not
		// behind the API's authentication: no Service publishes it.
		ports, _ := get(s, "spec", "ports").([]any)
		for _, p := range ports {
			pm, _ := p.(map[string]any)
			if fmt.Sprint(pm["port"]) == "8089" || fmt.Sprint(pm["targetPort"]) == "introspection" || fmt.Sprint(pm["targetPort"]) == "8089" {
				t.Errorf("%s: Service %s publishes the introspection port: %v", dir, name, pm)
			}
		}
	}
}

func TestKubernetesCombo(t *testing.T) {
	dir := filepath.Join("kubernetes", "combo")
	c := load(t, dir)
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret"} {
		if len(c[k]) == 0 {
			t.Errorf("%s: no %s", dir, k)
		}
	}
	if modes := checkDeployments(t, dir, c); !slices.Equal(modes, []string{"combo"}) {
		t.Errorf("%s: modes %v, want [combo]", dir, modes)
	}
	checkServices(t, dir, c)
	checkConfigMaps(t, dir, c)
}

func TestKubernetesSplit(t *testing.T) {
	dir := filepath.Join("kubernetes", "split")
	c := load(t, dir)
	if modes := checkDeployments(t, dir, c); !slices.Equal(modes, []string{"indexer", "matcher", "notifier"}) {
		t.Errorf("%s: modes %v, want one Deployment each for indexer, matcher and notifier", dir, modes)
	}
	checkServices(t, dir, c)
	checkConfigMaps(t, dir, c)

	if len(c["Ingress"]) != 1 {
		t.Fatalf("%s: %d Ingresses, want 1", dir, len(c["Ingress"]))
	}
	routes := map[string]string{} // path -> service
	for _, ing := range c["Ingress"] {
		for _, rule := range list(ing, "spec", "rules") {
			for _, p := range list(rule, "http", "paths") {
				svc := str(p, "backend", "service", "name")
				routes[str(p, "path")] = svc
				s := c["Service"][svc]
				if s == nil {
					t.Errorf("Ingress path %s: Service %q is not in %s", str(p, "path"), svc, dir)
					continue
				}
				port := get(p, "backend", "service", "port", "name")
				if port == nil {
					port = get(p, "backend", "service", "port", "number")
				}
				ok := false
				for _, sp := range list(s, "spec", "ports") {
					ok = ok || get(sp, "name") == port || get(sp, "port") == port
				}
				if !ok {
					t.Errorf("Ingress path %s: Service %s has no port %v", str(p, "path"), svc, port)
				}
			}
		}
	}
	for path, mode := range map[string]string{"/indexer": "indexer", "/matcher": "matcher", "/notifier": "notifier"} {
		svc, ok := routes[path]
		if !ok {
			t.Errorf("Ingress does not route %s", path)
			continue
		}
		// The Service must reach the pods of the right mode.
		var lbl any = get(c["Service"][svc], "spec", "selector")
		d := c["Deployment"]["clair-"+mode]
		if d == nil || !subset(lbl, get(d, "spec", "template", "metadata", "labels")) {
			t.Errorf("Ingress %s → Service %s does not select the %s pods", path, svc, mode)
		}
	}
}

// documentedKeys are the top-level keys of Clair v4's config.
var documentedKeys = []string{
	"http_listen_addr", "introspection_addr", "log_level", "indexer", "matcher", "matchers",
	"updaters", "notifier", "auth", "tls", "trace", "metrics",
}

// checkConfig checks a config file's text: documented top-level keys only,
// updater sets that name registered feeds, and acceptance by the server's
// own loader.
func checkConfig(t *testing.T, where string, text []byte) obj {
	t.Helper()
	var top obj
	if err := yaml.Unmarshal(text, &top); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for k := range top {
		if !slices.Contains(documentedKeys, k) {
			t.Errorf("%s: top-level key %q is not one of Clair's %v", where, k, documentedKeys)
		}
	}
	for _, s := range list(top, "updaters", "sets") {
		if name, _ := s.(string); name == "" {
			t.Errorf("%s: updaters.sets entry %v", where, s)
		} else if _, ok := feed.Lookup(name); !ok {
			t.Errorf("%s: updaters.sets names %q, which is no feed of this server", where, name)
		}
	}
	// The environment can override the file; keep this machine's out.
	for _, k := range []string{config.EnvIndexerConn, config.EnvMatcherConn, config.EnvNotifierConn, config.EnvPSKKey, config.EnvPSKIssuer} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	if _, err := config.Parse(bytes.NewReader(text)); err != nil {
		t.Errorf("%s: the server's config loader refuses it: %v", where, err)
	}
	return top
}

func checkConfigMaps(t *testing.T, dir string, c cluster) {
	t.Helper()
	for name, cm := range c["ConfigMap"] {
		text := str(cm, "data", "config.yaml")
		if text == "" {
			t.Errorf("%s: ConfigMap %s has no config.yaml", dir, name)
			continue
		}
		checkConfig(t, dir+": ConfigMap "+name, []byte(text))
	}
}

func TestSampleConfig(t *testing.T) {
	text, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	top := checkConfig(t, "config.yaml", text)
	for _, k := range []string{"http_listen_addr", "introspection_addr", "log_level", "indexer", "matcher", "updaters", "notifier"} {
		if _, ok := top[k]; !ok {
			t.Errorf("config.yaml: no %s", k)
		}
	}
	if str(top, "http_listen_addr") != ":6060" || str(top, "introspection_addr") != ":8089" {
		t.Errorf("config.yaml: addresses %q %q", str(top, "http_listen_addr"), str(top, "introspection_addr"))
	}
	for _, k := range []string{"indexer", "matcher", "notifier"} {
		if str(top, k, "connstring") == "" {
			t.Errorf("config.yaml: %s.connstring is empty", k)
		}
	}
	if get(top, "indexer", "allow_private_networks") != false {
		t.Error("config.yaml: the sample must not allow private networks")
	}
	// auth and tls are shown commented out: on by default they would need
	// a key and certificates that a sample cannot have.
	for _, k := range []string{"# auth:", "# tls:"} {
		if !bytes.Contains(text, []byte(k)) {
			t.Errorf("config.yaml: no commented %q section", strings.TrimPrefix(k, "# "))
		}
	}
}

func TestCompose(t *testing.T) {
	const path = "../docker-compose.yml"
	d := docs(t, path)[0]
	pg, clair := get(d, "services", "postgres"), get(d, "services", "clair")
	if str(pg, "image") != "postgres:15" || get(pg, "healthcheck", "test") == nil {
		t.Errorf("postgres: image %q, healthcheck %v", str(pg, "image"), get(pg, "healthcheck"))
	}
	if str(clair, "depends_on", "postgres", "condition") != "service_healthy" {
		t.Errorf("clair does not wait for a healthy postgres: %v", get(clair, "depends_on"))
	}
	if mode, _ := modeOf(list(clair, "command")); mode != "combo" {
		t.Errorf("clair -mode %q, want combo", mode)
	}
	mounted := false
	for _, v := range list(clair, "volumes") {
		s, _ := v.(string)
		if src, dst, _ := strings.Cut(s, ":"); src == "./deploy/config.yaml" && strings.HasPrefix(dst, "/etc/clair/config.yaml") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("clair does not mount ./deploy/config.yaml: %v", get(clair, "volumes"))
	}

	// docker compose validates the file against the Compose schema without
	// an engine; the standalone docker-compose does the same.
	var cmd *exec.Cmd
	if exec.Command("docker", "compose", "version").Run() == nil {
		cmd = exec.Command("docker", "compose", "-f", path, "config", "-q")
	} else if p, err := exec.LookPath("docker-compose"); err == nil {
		cmd = exec.Command(p, "-f", path, "config", "-q")
	} else {
		t.Skip("neither docker compose nor docker-compose is installed: schema not checked")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%v: %v\n%s", cmd.Args, err, out)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"FROM golang:1.26 AS build",
		"CGO_ENABLED=0 go build",
		"./cmd/clair ",
		"./cmd/clairctl",
		"USER 65532",
		"EXPOSE 6060 8089",
		`ENTRYPOINT ["/bin/clair"]`,
		`CMD ["-config", "/etc/clair/config.yaml"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile: no %q", want)
		}
	}
	// The files it copies must exist.
	for _, line := range strings.Split(df, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "COPY" && !strings.HasPrefix(f[1], "--") && f[1] != "." {
			if _, err := os.Stat(filepath.Join("..", f[1])); err != nil {
				t.Errorf("Dockerfile: %s: %v", line, err)
			}
		}
	}
}
