package service

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/index"
	"github.com/openclair/clair/layerfetch"
	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/store/sqlite"
	"github.com/openclair/clair/vuln"
)

// alpineLayer is the one layer of the real alpine:3.18.9 image archive.
func alpineLayer(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open("../testdata/images/alpine-3.18.9.tar")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var man []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil || len(man) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	return files[man[0].Layers[0]]
}

// smallLayer is a gzipped tar holding one file.
func smallLayer(t *testing.T, name, body string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write([]byte(body))
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// blobs serves blobs by digest and counts the fetches of each.
type blobs struct {
	mu      sync.Mutex
	data    map[string][]byte
	fetches map[string]int
	delay   time.Duration
	srv     *httptest.Server
}

func newBlobs(t *testing.T) *blobs {
	b := &blobs{data: map[string][]byte{}, fetches: map[string]int{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := filepath.Base(r.URL.Path)
		b.mu.Lock()
		data, ok := b.data[d]
		b.fetches[d]++
		b.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		time.Sleep(b.delay)
		w.Write(data)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *blobs) add(data []byte) *vuln.ManifestLayer {
	d := digestOf(data)
	b.mu.Lock()
	b.data[d] = data
	b.mu.Unlock()
	return &vuln.ManifestLayer{Hash: d, URI: b.srv.URL + "/blobs/" + d}
}

func newIndexer(t *testing.T, gate *LayerGate) *Indexer {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ix := &index.Indexer{Store: st, Scanners: scanner.All()}
	if gate != nil {
		gate.Locks = st
		ix.Gate = gate.Run
	}
	return &Indexer{Store: st, Fetcher: &layerfetch.Fetcher{AllowPrivate: true}, Indexer: ix, Concurrency: -1}
}

// TestSharedBaseLayer is the thundering herd: fifty manifests posted at
// once, all on one uncached base layer, each with a layer of its own. The
// base layer is fetched once, and so is every other layer.
func TestSharedBaseLayer(t *testing.T) {
	bs := newBlobs(t)
	bs.delay = 50 * time.Millisecond
	base := bs.add(alpineLayer(t))
	s := newIndexer(t, &LayerGate{Max: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		top := bs.add(smallLayer(t, "etc/motd", fmt.Sprintf("image %d\n", i)))
		m := &vuln.Manifest{Hash: digestOf([]byte(fmt.Sprint("manifest", i))), Layers: []*vuln.ManifestLayer{base, top}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := s.Index(context.Background(), m)
			if err == nil && len(r.Packages) == 0 {
				err = fmt.Errorf("%s: no packages", m.Hash)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for d, n := range bs.fetches {
		total += n
		if n != 1 {
			t.Errorf("%s fetched %d times", d, n)
		}
	}
	if total != 51 {
		t.Errorf("%d fetches for 51 layers", total)
	}
}

// TestRequestConcurrency: with index_report_request_concurrency 1, of
// three manifests posted at once one is indexed and the others are told
// to come back (Busy, a 429), without fetching anything.
func TestRequestConcurrency(t *testing.T) {
	bs := newBlobs(t)
	bs.delay = 300 * time.Millisecond
	s := newIndexer(t, nil)
	s.Concurrency = 1
	var busy, ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		l := bs.add(smallLayer(t, "etc/motd", fmt.Sprint(i)))
		m := &vuln.Manifest{Hash: digestOf([]byte(fmt.Sprint("m", i))), Layers: []*vuln.ManifestLayer{l}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Index(context.Background(), m)
			switch {
			case err == nil:
				ok.Add(1)
			case errkind.Of(err) == errkind.Busy:
				busy.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range bs.fetches {
		total += n
	}
	if ok.Load() != 1 || busy.Load() != 2 || total != 1 {
		t.Errorf("%d indexed, %d busy, %d fetches; want 1, 2, 1", ok.Load(), busy.Load(), total)
	}
}

// TestManifestDeadline: a manifest whose layers take longer than the
// manifest's deadline ends as a Timeout naming the deadline.
func TestManifestDeadline(t *testing.T) {
	bs := newBlobs(t)
	bs.delay = 2 * time.Second
	s := newIndexer(t, nil)
	s.Timeout = 200 * time.Millisecond
	l := bs.add(smallLayer(t, "etc/motd", "slow"))
	start := time.Now()
	_, _, err := s.Index(context.Background(), &vuln.Manifest{Hash: digestOf([]byte("slow")), Layers: []*vuln.ManifestLayer{l}})
	if errkind.Of(err) != errkind.Timeout || time.Since(start) > 1500*time.Millisecond {
		t.Errorf("error %v (kind %v) after %s, want a Timeout after 200ms", err, errkind.Of(err), time.Since(start))
	}
}

// TestClassicChainCap: a classic chain may not pass the v4 manifest's
// 1,000 layers. The chain is stored as the parent's report, so a parent
// with a 1,000-layer chain stands in for 1,000 POSTs.
func TestClassicChainCap(t *testing.T) {
	bs := newBlobs(t)
	s := newIndexer(t, nil)
	ctx := context.Background()
	parent := &vuln.IndexReport{ManifestHash: ClassicPrefix + "p", State: vuln.IndexFinished}
	for i := 0; i < MaxClassicChain; i++ {
		parent.Layers = append(parent.Layers, fmt.Sprintf("%sl%d", ClassicPrefix, i))
	}
	if err := s.Store.PutIndexReport(ctx, parent); err != nil {
		t.Fatal(err)
	}
	l := bs.add(smallLayer(t, "etc/motd", "x"))
	_, err := s.IndexClassic(ctx, &ClassicLayer{Name: "child", Path: l.URI, ParentName: "p"})
	if errkind.Of(err) != errkind.Invalid || len(bs.fetches) != 0 {
		t.Errorf("1,001-layer chain: %v (kind %v), %d fetches", err, errkind.Of(err), len(bs.fetches))
	}
	// Within the cap it indexes.
	if _, err := s.IndexClassic(ctx, &ClassicLayer{Name: "root", Path: l.URI}); err != nil {
		t.Errorf("one layer: %v", err)
	}
}

// TestLeaderLeaves: when the first of two callers for one manifest goes
// away mid-index, the second is not told "canceled": it indexes itself.
func TestLeaderLeaves(t *testing.T) {
	bs := newBlobs(t)
	bs.delay = 300 * time.Millisecond
	s := newIndexer(t, &LayerGate{})
	l := bs.add(smallLayer(t, "etc/motd", "x"))
	m := &vuln.Manifest{Hash: digestOf([]byte("leader")), Layers: []*vuln.ManifestLayer{l}}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, _, err := s.Index(ctx, m)
		first <- err
	}()
	time.Sleep(100 * time.Millisecond)
	second := make(chan error, 1)
	go func() {
		_, _, err := s.Index(context.Background(), m)
		second <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-first; errkind.Of(err) != errkind.Canceled {
		t.Errorf("first: %v", err)
	}
	if err := <-second; err != nil {
		t.Errorf("second caller, still there: %v", err)
	}
}
