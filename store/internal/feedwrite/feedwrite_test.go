package feedwrite

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/openclair/clair/vuln"
)

// TestEmitterSerialisesAndSticks emits from many goroutines at once: write
// sees one call at a time (the race detector and the counter tell), and
// after write's first error every emit returns that error, Close included
// when load swallowed it.
func TestEmitterSerialisesAndSticks(t *testing.T) {
	var inside, written int
	boom := errors.New("disk full")
	e := NewEmitter(t.Context(), "test: replace x", func(n int) error {
		inside++
		defer func() { inside-- }()
		if inside != 1 {
			t.Errorf("%d writes at once", inside)
		}
		if n == 500 {
			return boom
		}
		written++
		return nil
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				_ = e.Emit(g*100 + i) // swallowed, as a careless load would
			}
		})
	}
	wg.Wait()
	err := e.Close(nil)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "test: replace x: ") {
		t.Fatalf("Close after a swallowed error = %v, want it prefixed", err)
	}
	if e.Len() != written || written >= 800 {
		t.Fatalf("Len = %d, written %d", e.Len(), written)
	}
	if err := e.Emit(1); err == nil || !strings.Contains(err.Error(), "after load returned") {
		t.Fatalf("Emit after Close = %v", err)
	}
}

func TestEmitterClose(t *testing.T) {
	ok := func(int) error { return nil }
	load := errors.New("truncated")
	if err := NewEmitter(t.Context(), "p", ok).Close(load); !errors.Is(err, load) || err.Error() != "p: load: truncated" {
		t.Fatalf("Close(load error) = %v", err)
	}
	e := NewEmitter(t.Context(), "p", func(int) error { return load })
	emitErr := e.Emit(1)
	if err := e.Close(emitErr); err != emitErr {
		t.Fatalf("Close(emit's own error) = %v, want it as it is: %v", err, emitErr)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	e = NewEmitter(ctx, "p", ok)
	if err := e.Emit(1); !errors.Is(err, context.Canceled) || e.Len() != 0 {
		t.Fatalf("Emit on a done context = %v (%d written)", err, e.Len())
	}
}

// TestWriterChecks: what every store rejects before its SQL sees it, and
// details passed on once per name.
func TestWriterChecks(t *testing.T) {
	var details []string
	w := New(t.Context(), "test", "debian", func(a *vuln.Advisory, seq int, d bool) error {
		if d {
			details = append(details, a.Name)
		}
		return nil
	})
	for _, a := range []*vuln.Advisory{
		{Name: "CVE-1", Description: "first"},
		{Name: "CVE-1", Description: "second"},
		{Name: "CVE-2"},
		{Name: "CVE-3", Feed: "debian", Links: []string{"https://example.org/3"}},
	} {
		if err := w.Emit(a); err != nil {
			t.Fatalf("Emit(%s): %v", a.Name, err)
		}
	}
	if want := []string{"CVE-1", "CVE-3"}; strings.Join(details, ",") != strings.Join(want, ",") {
		t.Fatalf("details written for %q, want %q", details, want)
	}
	if blob, err := w.Snapshot(); err != nil || len(blob) == 0 || w.Len() != 4 {
		t.Fatalf("Snapshot = %d bytes, %v; Len %d", len(blob), err, w.Len())
	}
	for _, tc := range []struct {
		a    *vuln.Advisory
		want string
	}{
		{nil, "nil advisory"},
		{&vuln.Advisory{Name: "CVE-4", Feed: "osv"}, `advisory CVE-4 of feed "osv"`},
		{&vuln.Advisory{Name: "CVE-5", Package: "a\x00b"}, "NUL"},
		{&vuln.Advisory{Name: "CVE-6", Ranges: []vuln.Range{{Fixed: "1\x00"}}}, "NUL"},
	} {
		w := New(t.Context(), "test", "debian", func(*vuln.Advisory, int, bool) error { return nil })
		err := w.Emit(tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "test: replace feed debian: ") {
			t.Errorf("Emit(%+v) = %v, want %q", tc.a, err, tc.want)
		}
	}
}

func TestEncodeEnrichment(t *testing.T) {
	rec, cve, err := EncodeEnrichment("kev", &vuln.Enrichment{Feed: "kev", CVE: "cve-2021-44228"})
	if err != nil || cve != "CVE-2021-44228" || strings.Contains(string(rec), `"kev"`) {
		t.Fatalf("EncodeEnrichment = %s, %q, %v", rec, cve, err)
	}
	for _, e := range []*vuln.Enrichment{nil, {CVE: "GHSA-xxxx"}, {CVE: "CVE-2021-44228", Feed: "nvd"}} {
		if _, _, err := EncodeEnrichment("kev", e); err == nil {
			t.Errorf("EncodeEnrichment(%+v) succeeded", e)
		}
	}
}
