package service

import (
	"bytes"
	"container/list"
	"context"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/pgzip"
	"github.com/openclair/clair/store"
)

// FeedStater says cheaply whether any feed changed (store.Store does).
type FeedStater interface {
	FeedStates(ctx context.Context) ([]store.FeedState, error)
}

// DefaultReportCacheBytes bounds the encoded reports Matcher keeps.
const DefaultReportCacheBytes = 256 << 20

// reportCache keeps encoded vulnerability reports by (manifest, index
// state, feed generation). A report is a pure function of the index report
// and the feeds' snapshots, and both are in the key, so a cached report is
// exactly the one a new computation would give: every request still sees
// today's data, but a popular image (a registry's front page, a CI gate run
// a thousand times) is encoded once per feed update rather than per
// request. Encoding a large report costs far more than matching it.
type reportCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type cachedReport struct {
	key  string
	body *Encoded
}

// Encoded is an encoded report, with its gzip form made on first demand:
// Go's HTTP clients (clairctl, Quay's) ask for gzip by default, and a large
// report shrinks tenfold.
type Encoded struct {
	JSON []byte
	once sync.Once
	gz   []byte
}

// Gzip returns the report gzip-compressed.
func (e *Encoded) Gzip() []byte {
	e.once.Do(func() {
		var b bytes.Buffer
		zw := newGzip(&b)
		_, _ = zw.Write(e.JSON)
		_ = zw.Close()
		e.gz = b.Bytes()
	})
	return e.gz
}

// gzipBlock is the size of the blocks a report's gzip form is cut into,
// each compressed on a core of its own (klauspost/pgzip). Compressing a
// large report (11.8 MB for the 700-package image) at gzip's best speed
// took 40 ms on one core, more than matching and encoding it together; on
// two cores it takes 26 ms, for 15% more CPU and output (27.8% of the JSON
// instead of 24.1%: BenchmarkFirstReport/gzip-newGzip).
const gzipBlock = 512 << 10

// newGzip returns the writer of a report's gzip form: one gzip member,
// compressed at BestSpeed on up to GOMAXPROCS cores.
func newGzip(w io.Writer) io.WriteCloser {
	zw, _ := pgzip.NewWriterLevel(w, pgzip.BestSpeed) // a valid level: no error
	_ = zw.SetConcurrency(gzipBlock, max(2, runtime.GOMAXPROCS(0)))
	return zw
}

func newReportCache(max int64) *reportCache {
	return &reportCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *reportCache) get(key string) (*Encoded, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*cachedReport).body, true
}

func (c *reportCache) put(key string, body *Encoded) {
	if int64(len(body.JSON)) > c.max/4 {
		return // one report must not flush the rest
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.items[key] = c.ll.PushFront(&cachedReport{key: key, body: body})
	c.size += int64(len(body.JSON)) * 5 / 4 // room for the gzip form
	for c.size > c.max {
		e := c.ll.Back()
		r := e.Value.(*cachedReport)
		c.ll.Remove(e)
		delete(c.items, r.key)
		c.size -= int64(len(r.body.JSON)) * 5 / 4
	}
}
