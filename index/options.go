package index

// Defaults of Options, for a layer and an image whatever their content.
const (
	// DefaultMaxFileBytes bounds a file kept for its scanners (spooled to
	// disk, or held in memory when small): one wanted by several
	// scanners, or by one that reads at offsets (executables, Java
	// archives). The largest real executables and application archives
	// are a few hundred MiB.
	DefaultMaxFileBytes = 512 << 20
	// DefaultMaxLayerBytes bounds what one layer's files cost in bytes
	// spooled to disk and inflated by the scanners (nested archives).
	DefaultMaxLayerBytes = 1 << 30
	// DefaultMaxImageBytes bounds the same for all the layers of one
	// image together.
	DefaultMaxImageBytes = 4 << 30
	// DefaultMaxLayerPackages bounds the packages found in one layer. The
	// largest real layers (a full distribution, a monorepo's node_modules)
	// hold a few thousand. Indexing, storing, matching and printing cost
	// about 9 KiB of memory per package in clairctl scan: 15,000 keep a
	// layer well under 200 MB.
	DefaultMaxLayerPackages = 15_000
	// DefaultMaxReportBytes bounds the size of an index report, as the
	// JSON of its packages and their environments (estimated): about
	// 18,000 apk packages, whatever the number of layers.
	DefaultMaxReportBytes = 8 << 20
	// DefaultMaxLayerFiles bounds the files and links of one layer that
	// the scanners want, counted once per scanner: what the indexer keeps
	// a record of. Large real layers come to some tens of thousands
	// (extension-less files are candidate executables).
	DefaultMaxLayerFiles = 200_000
	// DefaultMemFileBytes is the largest kept file held in memory rather
	// than spooled to disk.
	DefaultMemFileBytes = 4 << 20
)

// Options bounds what indexing an image may cost, whatever the image holds.
// A bound that is hit leaves a warning in the report naming the layer and
// the path, and the rest of the image is indexed. The zero value means the
// defaults; a negative field means no bound.
type Options struct {
	// MaxFileBytes: see DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxLayerBytes: see DefaultMaxLayerBytes.
	MaxLayerBytes int64
	// MaxImageBytes: see DefaultMaxImageBytes.
	MaxImageBytes int64
	// MaxLayerPackages: see DefaultMaxLayerPackages.
	MaxLayerPackages int
	// MaxReportBytes: see DefaultMaxReportBytes.
	MaxReportBytes int64
	// MaxLayerFiles: see DefaultMaxLayerFiles.
	MaxLayerFiles int
	// MemFileBytes: see DefaultMemFileBytes.
	MemFileBytes int64
	// TempDir holds spooled files; "" is os.TempDir().
	TempDir string
}

const unbounded = 1<<63 - 1

func pick(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return unbounded
	}
	return v
}

func (o Options) maxFileBytes() int64  { return pick(o.MaxFileBytes, DefaultMaxFileBytes) }
func (o Options) maxLayerBytes() int64 { return pick(o.MaxLayerBytes, DefaultMaxLayerBytes) }
func (o Options) maxImageBytes() int64 { return pick(o.MaxImageBytes, DefaultMaxImageBytes) }
func (o Options) maxReportBytes() int64 {
	return pick(o.MaxReportBytes, DefaultMaxReportBytes)
}
func (o Options) memFileBytes() int64 { return pick(o.MemFileBytes, DefaultMemFileBytes) }
func (o Options) maxLayerFiles() int {
	return int(pick(int64(o.MaxLayerFiles), DefaultMaxLayerFiles))
}
func (o Options) maxLayerPackages() int {
	return int(pick(int64(o.MaxLayerPackages), DefaultMaxLayerPackages))
}
