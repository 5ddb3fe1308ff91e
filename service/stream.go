package service

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/reportjson"
	"github.com/openclair/clair/store"
)

// StreamReportJSON is ReportJSON for a server that can start its answer
// before the report is whole. A cached report is returned and start is
// not called. Otherwise the report is matched and then, if start is not
// nil, start is called (once matching can no longer fail: the answer's
// status is known) and the report is written to the writer it returns as
// it is encoded, gzip-compressed when gz is set, while the cache is filled
// with both forms. The returned Encoded is whole either way. A failing
// writer (a client gone) stops only the writing to it.
//
// This is why: a large report (700 packages, 9.8 MB) took 150 ms before
// its first byte left; streamed, the first bytes leave once matching is
// done, and encoding and compression run while they travel.
func (s *Matcher) StreamReportJSON(ctx context.Context, manifest string, gz bool, start func() io.Writer) (*Encoded, error) {
	if err := checkDigest(manifest); err != nil {
		return nil, err
	}
	var key, gen string
	var states []store.FeedState
	if s.Feeds != nil {
		var err error
		states, err = s.Feeds.FeedStates(ctx)
		if err != nil {
			return nil, fmt.Errorf("match %s: %w", manifest, err)
		}
		s.once.Do(func() {
			n := s.CacheBytes
			if n <= 0 {
				n = DefaultReportCacheBytes
			}
			s.cache = newReportCache(n)
		})
		// The key names the index report by when it was written (cheap),
		// or else by its index state once read.
		gen = store.Generation(states)
		if v, ok := s.Reports.(versioner); ok {
			ver, err := v.IndexReportVersion(ctx, manifest)
			if err != nil {
				return nil, storeError("index report of "+manifest, err)
			}
			key = fmt.Sprintf("%s\x00v%d\x00%s", manifest, ver, gen)
			if e, ok := s.cache.get(key); ok {
				return e, nil
			}
		}
	}
	ir, err := s.Reports.IndexReport(ctx, manifest)
	if err != nil {
		return nil, storeError("index report of "+manifest, err)
	}
	if ir.State == IndexError {
		// Matching nothing would read as "no vulnerabilities".
		return nil, errkind.New(errkind.BadContent, "the manifest could not be indexed: "+ir.Err)
	}
	if s.Feeds != nil && key == "" {
		key = manifest + "\x00s" + ir.IndexState + "\x00" + gen
		if e, ok := s.cache.get(key); ok {
			return e, nil
		}
	}
	begin := time.Now()
	vr, err := s.Match.MatchStates(ctx, ir, states)
	if s.Observe != nil {
		s.Observe(time.Since(begin), err)
	}
	if err != nil {
		return nil, fmt.Errorf("match %s: %w", manifest, err)
	}

	// A report's size is close to a kilobyte per package/vulnerability
	// pair (1,145 bytes for the 700-package image; 1,770 per
	// vulnerability there, as several packages share one): one
	// allocation rather than a doubling series of copies.
	pairs := len(vr.Packages)
	for _, vs := range vr.PackageVulnerabilities {
		pairs += len(vs)
	}
	js := &teeWriter{buf: bytes.NewBuffer(make([]byte, 0, 1280*pairs+64<<10))}
	var zdone chan []byte // the gzip form, when compressed alongside
	var pipe *chunkPipe
	if start != nil {
		out := &teeWriter{w: start()}
		if gz {
			// Compression runs on its own goroutines, one chunk behind
			// the encoder: the answer costs the slower of the two rather
			// than their sum.
			out.buf = bytes.NewBuffer(make([]byte, 0, js.buf.Cap()/8))
			pipe = &chunkPipe{ch: make(chan []byte, 64)}
			zdone = make(chan []byte, 1)
			go func() {
				zw := newGzip(out)
				for c := range pipe.ch {
					_, _ = zw.Write(c)
				}
				_ = zw.Close() // out keeps its own errors: out.buf is whole
				zdone <- out.buf.Bytes()
			}()
			js.pipe = pipe
		} else {
			js.w = out
		}
	}
	err = reportjson.Encode(js, vr)
	var zbytes []byte
	if pipe != nil {
		close(pipe.ch)
		zbytes = <-zdone // the goroutine is done with the response too
	}
	if err != nil {
		return nil, fmt.Errorf("match %s: encode: %w", manifest, err)
	}
	e := &Encoded{JSON: js.buf.Bytes()}
	if zbytes != nil {
		e.once.Do(func() { e.gz = zbytes })
	}
	if key != "" {
		s.cache.put(key, e)
	}
	return e, nil
}

// teeWriter keeps everything in buf and passes it on to w until w fails,
// and to pipe, when set, as slices of buf.
type teeWriter struct {
	buf  *bytes.Buffer
	w    io.Writer
	err  error
	pipe *chunkPipe
}

// chunkPipe hands the encoded report's chunks to the compressing
// goroutine. The chunks are slices of the report's buffer, which only
// grows: a slice handed on stays valid (and unchanged) whatever follows.
type chunkPipe struct{ ch chan []byte }

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.buf != nil {
		n := t.buf.Len()
		t.buf.Write(p)
		if t.pipe != nil {
			t.pipe.ch <- t.buf.Bytes()[n:t.buf.Len():t.buf.Len()]
		}
	}
	if t.w != nil && t.err == nil {
		_, t.err = t.w.Write(p)
	}
	return len(p), nil
}
