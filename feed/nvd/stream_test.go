package nvd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"testing"

	"github.com/openclair/clair/feed/nvd"
	"github.com/openclair/clair/vuln"
)

// heapWatch is a reader that samples the heap as it is read.
type heapWatch struct {
	r     io.Reader
	reads int
	peak  uint64
	n     int64
}

func (h *heapWatch) Read(p []byte) (int, error) {
	h.reads++
	if h.reads%512 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	return n, err
}

// TestParseStreams: memory does not grow with the document. One NVD
// document of 64 MB (vunnel's real page of 41 CVEs, its records listed
// over and over) is parsed with the heap growing less than 48 MB: records are
// decoded one at a time, and what is kept per CVE is its id.
func TestParseStreams(t *testing.T) {
	var page struct {
		Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(read(t, "feeds/samples-vunnel/nvd/full-page.json"), &page); err != nil {
		t.Fatal(err)
	}
	raw := make([][]byte, len(page.Vulnerabilities))
	for i, v := range page.Vulnerabilities {
		raw[i] = v
	}
	items := bytes.Join(raw, []byte(","))
	const target = 64 << 20
	copies := target / len(items)
	parts := []io.Reader{bytes.NewReader([]byte(`{"format":"NVD_CVE","version":"2.0","vulnerabilities":[`))}
	for i := range copies {
		if i > 0 {
			parts = append(parts, bytes.NewReader([]byte(",")))
		}
		parts = append(parts, bytes.NewReader(items))
	}
	parts = append(parts, bytes.NewReader([]byte(`]}`)))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	w := &heapWatch{r: io.MultiReader(parts...)}
	n := 0
	if err := nvd.ParseFile(context.Background(), "big", w, map[string]struct{}{}, func(*vuln.Enrichment) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	one, err := parseFile("page", read(t, "feeds/samples-vunnel/nvd/full-page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w.n < target*9/10 || n != len(one) {
		t.Fatalf("read %d bytes, %d records", w.n, n)
	}
	grew := int64(w.peak) - int64(base)
	t.Logf("%d MB parsed, heap grew by at most %.1f MB", w.n>>20, float64(grew)/(1<<20))
	if grew > 48<<20 {
		t.Errorf("heap grew by %d MB over a %d MB document", grew>>20, w.n>>20)
	}
}
