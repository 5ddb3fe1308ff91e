// Package browsertest drives a headless Chromium for the tests of the HTML
// report and the web page, through chromedriver's W3C WebDriver HTTP API
// with plain net/http. Chromium and chromedriver come from Debian's
// chromium and chromium-driver packages (.ci/run installs them); without
// them a test skips, unless $CI is set, where it fails.
package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// binaries are where Debian installs the browser itself (not the
// /usr/bin/chromium wrapper script) and its driver.
var (
	chromiumPaths = []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}
	driverPaths   = []string{"/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver"}
)

func find(paths []string) string {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// Browser is one chromedriver process with one browser session.
type Browser struct {
	t       testing.TB
	base    string
	session string
	cmd     *exec.Cmd
}

// Width and Height are the browser window's size in pixels (device scale
// 1, no scroll bars), so that screenshots measure in page pixels.
const (
	Width  = 1200
	Height = 900
)

// New starts chromedriver and a headless Chromium session, stopped when
// the test ends.
func New(t testing.TB) *Browser {
	t.Helper()
	chrome, driver := find(chromiumPaths), find(driverPaths)
	if chrome == "" || driver == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("browsertest: chromium or chromedriver missing (apt-get install chromium chromium-driver)")
		}
		t.Skip("browsertest: chromium and chromium-driver are not installed (apt-get install chromium chromium-driver); CI runs this test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("browsertest: %s: %v", driver, err)
	}
	b := &Browser{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(b.close)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct {
			Value struct{ Ready bool } `json:"value"`
		}
		if err := b.call(http.MethodGet, "/status", nil, &st); err == nil && st.Value.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("browsertest: chromedriver not ready after 20s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chrome,
			"args": []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
				"--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
				fmt.Sprintf("--window-size=%d,%d", Width, Height)},
		},
	}}}
	var sess struct {
		Value struct {
			SessionID string `json:"sessionId"`
		} `json:"value"`
	}
	if err := b.call(http.MethodPost, "/session", caps, &sess); err != nil {
		t.Fatalf("browsertest: new session: %v\n%s", err, logs.String())
	}
	b.session = "/session/" + sess.Value.SessionID
	return b
}

func (b *Browser) close() {
	if b.session != "" {
		_ = b.call(http.MethodDelete, b.session, nil, nil)
	}
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
}

// call makes one WebDriver request; a WebDriver error comes back as error.
func (b *Browser) call(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (b *Browser) must(method, path string, in, out any) {
	b.t.Helper()
	if err := b.call(method, b.session+path, in, out); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Go loads url and waits for the page to load.
func (b *Browser) Go(url string) {
	b.t.Helper()
	b.must(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// URL is the page's current address.
func (b *Browser) URL() string {
	b.t.Helper()
	var v struct{ Value string }
	b.must(http.MethodGet, "/url", nil, &v)
	return v.Value
}

// Element is a found element's WebDriver id.
type Element string

const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Find returns the first element matching a CSS selector, failing the
// test when there is none.
func (b *Browser) Find(css string) Element {
	b.t.Helper()
	var v struct {
		Value map[string]string `json:"value"`
	}
	b.must(http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &v)
	return Element(v.Value[elementKey])
}

// Click clicks an element.
func (b *Browser) Click(e Element) {
	b.t.Helper()
	b.must(http.MethodPost, "/element/"+string(e)+"/click", map[string]any{}, nil)
}

// Type types text into an element.
func (b *Browser) Type(e Element, text string) {
	b.t.Helper()
	b.must(http.MethodPost, "/element/"+string(e)+"/value", map[string]string{"text": text}, nil)
}

// Text is an element's rendered text.
func (b *Browser) Text(e Element) string {
	b.t.Helper()
	var v struct{ Value string }
	b.must(http.MethodGet, "/element/"+string(e)+"/text", nil, &v)
	return v.Value
}

// Eval runs a script's body in the page and decodes what it returns into
// out.
func (b *Browser) Eval(script string, out any) {
	b.t.Helper()
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	b.must(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": []any{}}, &v)
	if out != nil {
		if err := json.Unmarshal(v.Value, out); err != nil {
			b.t.Fatalf("browsertest: script result %s: %v", v.Value, err)
		}
	}
}

// Screenshot takes a PNG of the window, writes it to path when path is
// not empty (for people to look at), and returns it decoded.
func (b *Browser) Screenshot(path string) image.Image {
	b.t.Helper()
	var v struct{ Value string }
	b.must(http.MethodGet, "/screenshot", nil, &v)
	raw, err := base64.StdEncoding.DecodeString(v.Value)
	if err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
	if path != "" {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
	return img
}

// CountColor counts the pixels of img that are exactly the color "#rrggbb".
func CountColor(img image.Image, hex string) int {
	var want [3]uint32
	for i := range want {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		want[i] = uint32(v)
	}
	n := 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr>>8 == want[0] && cg>>8 == want[1] && cb>>8 == want[2] {
				n++
			}
		}
	}
	return n
}
