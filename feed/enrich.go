package feed

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// Enricher is a feed whose snapshot holds enrichment records (CVSS, EPSS,
// KEV) rather than advisories. The updater stores what ParseEnrichments
// emits in the store's enrichment records, replaced whole like advisories;
// its Parse emits no advisories.
type Enricher interface {
	Feed
	// ParseEnrichments turns a snapshot Fetch wrote into records, calling
	// emit for each CVE once. It streams, as Parse does; errors name the
	// file, line or field.
	ParseEnrichments(ctx context.Context, snap io.ReaderAt, size int64, emit func(*vuln.Enrichment) error) error
}

// MaxDecompressed bounds what MaybeGunzip lets a compressed file expand to:
// NVD's largest yearly file is a few hundred megabytes, and a gzip bomb
// must not run for ever.
var MaxDecompressed int64 = 4 << 30

// MaybeGunzip returns r decompressed when it starts with the gzip magic, r
// itself (buffered) otherwise: mirrors and file:// copies are served either
// way. The decompressed stream fails past MaxDecompressed bytes.
func MaybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err == io.EOF || (err == nil && (magic[0] != 0x1f || magic[1] != 0x8b)) {
		return br, nil
	}
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return limit.Reader(zr, MaxDecompressed), nil
}

// Incremental is an Enricher whose Fetch may write only what changed since
// the stored snapshot (NVD's modified feed instead of every year): the
// updater then parses with the stored records at hand.
type Incremental interface {
	Enricher
	// ParseIncremental is ParseEnrichments given prev, which calls its
	// argument with each record of the stored snapshot (nil when the store
	// cannot list them: an increment is then an error, and the next
	// update is a full one).
	ParseIncremental(ctx context.Context, snap io.ReaderAt, size int64, prev func(func(*vuln.Enrichment) error) error, emit func(*vuln.Enrichment) error) error
}

// Bulky is implemented by feeds whose download is large and changes many
// times a day (the CVE List's archive, about half a gigabyte): clairctl
// scan updates them only when named (--only), using what is stored
// otherwise; servers, which update in the background, run them like any
// other.
type Bulky interface{ Bulky() }
