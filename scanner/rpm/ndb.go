package rpm

import (
	"encoding/binary"
	"fmt"
	"io"
)

// NDB layout (rpm's lib/backend/ndb/rpmpkg.c): a 32-byte header, slot pages
// of 4096 bytes holding 16-byte slots, and blobs addressed in 16-byte blocks.
const (
	ndbMagic     = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbSlotPage  = 4096
	ndbBlock     = 16
)

func isNDB(b []byte) bool {
	return len(b) >= 4 && binary.LittleEndian.Uint32(b) == ndbMagic
}

// readNDB calls fn with each package header blob of an NDB Packages.db of
// size bytes.
func readNDB(r io.ReaderAt, size int64, fn func([]byte) error) error {
	hdr := make([]byte, 32)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return fmt.Errorf("ndb: header: %w", err)
	}
	le := binary.LittleEndian
	if v := le.Uint32(hdr[4:]); v != 0 {
		return fmt.Errorf("ndb: version %d", v)
	}
	npages := int64(le.Uint32(hdr[12:]))
	if npages == 0 || npages*ndbSlotPage > size {
		return fmt.Errorf("ndb: %d slot pages in a file of %d bytes (truncated?)", npages, size)
	}
	slots := make([]byte, npages*ndbSlotPage)
	if _, err := r.ReadAt(slots, 0); err != nil {
		return fmt.Errorf("ndb: slot pages: %w", err)
	}
	bh := make([]byte, 16)
	// The first two slots are the header.
	for s := int64(2); s < npages*ndbSlotPage/16; s++ {
		e := slots[s*16 : s*16+16]
		if le.Uint32(e) != ndbSlotMagic {
			return fmt.Errorf("ndb: slot %d: bad magic %#x", s, le.Uint32(e))
		}
		pkg := le.Uint32(e[4:])
		if pkg == 0 {
			continue // free
		}
		off := int64(le.Uint32(e[8:])) * ndbBlock
		if off+16 > size {
			return fmt.Errorf("ndb: package %d: blob at %d past the end of the file (truncated?)", pkg, off)
		}
		if _, err := r.ReadAt(bh, off); err != nil {
			return fmt.Errorf("ndb: package %d: %w", pkg, err)
		}
		if le.Uint32(bh) != ndbBlobMagic || le.Uint32(bh[4:]) != pkg {
			return fmt.Errorf("ndb: package %d: no blob at offset %d", pkg, off)
		}
		n := int64(le.Uint32(bh[12:]))
		if n > maxData || off+16+n > size {
			return fmt.Errorf("ndb: package %d: blob of %d bytes at %d past the end of the file (truncated?)", pkg, n, off)
		}
		blob := make([]byte, n)
		if _, err := r.ReadAt(blob, off+16); err != nil {
			return fmt.Errorf("ndb: package %d: %w", pkg, err)
		}
		if err := fn(blob); err != nil {
			return err
		}
	}
	return nil
}
