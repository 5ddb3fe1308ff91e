package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// measureServer starts the clair server on its own SQLite database, serves
// the layout's blobs on loopback, POSTs the manifest to
// /indexer/api/v1/index_report and reads the server's peak RSS (VmHWM)
// once it has answered.
func measureServer(bin, dir, c, layout string) (*result, error) {
	layers, manifest, err := layoutLayers(layout)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(filepath.Join(layout, "blobs", "sha256")))}
	go srv.Serve(ln)
	defer srv.Close()

	tmp := filepath.Join(dir, c+".srvtmp")
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	api, intro := freeAddr(), freeAddr()
	cfg := fmt.Sprintf("http_listen_addr: %s\nintrospection_addr: %s\nlog_level: warn\nindexer:\n  connstring: \"sqlite:%s\"\n  allow_private_networks: true\nmatcher:\n  disable_updaters: true\n",
		api, intro, filepath.Join(tmp, "clair.db"))
	cfgPath := filepath.Join(tmp, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-config", cfgPath)
	spool := filepath.Join(tmp, "tmp")
	if err := os.MkdirAll(spool, 0o755); err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), "TMPDIR="+spool)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	base := "http://" + api
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/indexer/api/v1/index_state")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 300 {
			return nil, fmt.Errorf("server never answered: %s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	type layer struct {
		Hash    string              `json:"hash"`
		URI     string              `json:"uri"`
		Headers map[string][]string `json:"headers"`
	}
	body := struct {
		Hash   string  `json:"hash"`
		Layers []layer `json:"layers"`
	}{Hash: manifest}
	for _, d := range layers {
		body.Layers = append(body.Layers, layer{Hash: d, URI: "http://" + ln.Addr().String() + "/" + strings.TrimPrefix(d, "sha256:"), Headers: map[string][]string{}})
	}
	b, _ := json.Marshal(body)
	start := time.Now()
	w0 := wchar(cmd.Process.Pid)
	stop, peak, written, _ := poll(spool, cmd.Process.Pid)
	resp, err := http.Post(base+"/indexer/api/v1/index_report", "application/json", bytes.NewReader(b))
	if err != nil {
		stop()
		return nil, err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stop()
	r := &result{secs: time.Since(start).Seconds(), exit: resp.StatusCode, temp: peak.Load(), written: written.Load() - w0}
	r.rss = vmHWM(cmd.Process.Pid)
	var ir struct {
		Warnings []string `json:"warnings"`
		Err      string   `json:"err"`
		Message  string   `json:"message"`
	}
	json.Unmarshal(out, &ir)
	r.warnings = ir.Warnings
	if ir.Err != "" {
		r.warnings = append(r.warnings, "ERROR "+ir.Err)
	}
	if resp.StatusCode >= 300 {
		r.warnings = append(r.warnings, "ERROR "+string(out))
	}
	if st, err := os.Stat(filepath.Join(tmp, "clair.db")); err == nil {
		r.db = st.Size()
	}
	return r, nil
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return -1
}

// layoutLayers reads the layer digests and the manifest digest of an OCI
// layout of one image.
func layoutLayers(layout string) ([]string, string, error) {
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.Manifests) != 1 {
		return nil, "", fmt.Errorf("%s: index.json: %v", layout, err)
	}
	md := idx.Manifests[0].Digest
	b, err = os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(md, "sha256:")))
	if err != nil {
		return nil, "", err
	}
	var man struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, "", err
	}
	var ds []string
	for _, l := range man.Layers {
		ds = append(ds, l.Digest)
	}
	return ds, md, nil
}
