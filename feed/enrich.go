package feed

import (
	"context"
	"io"

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

// MaxDecompressed bounds what an enrichment feed's file may expand to
// (Decompress's max): NVD's largest yearly file is a few hundred
// megabytes, and a compression bomb must not run for ever.
var MaxDecompressed int64 = 4 << 30

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
