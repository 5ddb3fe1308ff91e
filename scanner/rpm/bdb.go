package rpm

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Berkeley DB hash database layout, as rpm's Packages uses it (db_page.h).
const (
	bdbHashMagic      = 0x061561
	bdbPageHashMeta   = 8
	bdbPageHashUnsort = 2 // hash pages of Berkeley DB before 4.6
	bdbPageHash       = 13
	bdbPageOverflow   = 7
	bdbItemOffPage    = 3 // H_OFFPAGE: the value lives on overflow pages
	bdbPageHeader     = 26
)

// isBDB says whether the first bytes are a Berkeley DB hash metadata page,
// in either byte order.
func isBDB(b []byte) bool {
	if len(b) < 26 {
		return false
	}
	return (binary.LittleEndian.Uint32(b[12:]) == bdbHashMagic || binary.BigEndian.Uint32(b[12:]) == bdbHashMagic) &&
		b[25] == bdbPageHashMeta
}

// readBDB calls fn with each package header blob of a Berkeley DB hash
// Packages file of size bytes. Every page number and offset is checked
// against the file and the page, and overflow chains are bounded by the
// number of pages, so a damaged file ends in an error.
func readBDB(r io.ReaderAt, size int64, fn func([]byte) error) error {
	meta := make([]byte, 512)
	if _, err := r.ReadAt(meta, 0); err != nil {
		return fmt.Errorf("berkeley db: metadata page: %w", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if binary.LittleEndian.Uint32(meta[12:]) != bdbHashMagic {
		order = binary.BigEndian
		if order.Uint32(meta[12:]) != bdbHashMagic {
			return fmt.Errorf("berkeley db: not a hash database")
		}
	}
	if meta[24] != 0 {
		return fmt.Errorf("berkeley db: encrypted (algorithm %d)", meta[24])
	}
	pageSize := int64(order.Uint32(meta[20:]))
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("berkeley db: page size %d", pageSize)
	}
	last := int64(order.Uint32(meta[32:]))
	pages := size / pageSize
	if last >= pages {
		return fmt.Errorf("berkeley db: last page %d, but the file holds %d pages of %d bytes (truncated?)", last, pages, pageSize)
	}
	page := make([]byte, pageSize)
	over := make([]byte, pageSize)
	readPage := func(buf []byte, n int64) error {
		if _, err := r.ReadAt(buf, n*pageSize); err != nil {
			return fmt.Errorf("berkeley db: page %d: %w", n, err)
		}
		return nil
	}
	for pn := int64(1); pn <= last; pn++ {
		if err := readPage(page, pn); err != nil {
			return err
		}
		if t := page[25]; t != bdbPageHash && t != bdbPageHashUnsort {
			continue
		}
		entries := int64(order.Uint16(page[20:]))
		if entries%2 != 0 || bdbPageHeader+entries*2 > pageSize {
			return fmt.Errorf("berkeley db: page %d: %d index entries", pn, entries)
		}
		// Entries come as key, value pairs; the values are the headers.
		for i := int64(1); i < entries; i += 2 {
			off := int64(order.Uint16(page[bdbPageHeader+i*2:]))
			if off >= pageSize {
				return fmt.Errorf("berkeley db: page %d: item offset %d out of the page", pn, off)
			}
			if page[off] != bdbItemOffPage {
				continue
			}
			if off+12 > pageSize {
				return fmt.Errorf("berkeley db: page %d: item offset %d out of the page", pn, off)
			}
			next := int64(order.Uint32(page[off+4:]))
			total := int64(order.Uint32(page[off+8:]))
			if total > size || total > maxData {
				return fmt.Errorf("berkeley db: page %d: item of %d bytes", pn, total)
			}
			value := make([]byte, 0, total)
			for steps := int64(0); next != 0; steps++ {
				if next > last || steps > last {
					return fmt.Errorf("berkeley db: page %d: overflow chain reaches page %d of %d", pn, next, last)
				}
				if err := readPage(over, next); err != nil {
					return err
				}
				if over[25] != bdbPageOverflow {
					return fmt.Errorf("berkeley db: page %d: overflow chain reaches page %d of type %d", pn, next, over[25])
				}
				nn := int64(order.Uint32(over[16:]))
				used := pageSize - bdbPageHeader
				if nn == 0 {
					used = int64(order.Uint16(over[22:]))
					if used > pageSize-bdbPageHeader {
						return fmt.Errorf("berkeley db: overflow page %d: %d bytes used", next, used)
					}
				}
				if int64(len(value))+used > total {
					return fmt.Errorf("berkeley db: page %d: overflow chain longer than its item's %d bytes", pn, total)
				}
				value = append(value, over[bdbPageHeader:bdbPageHeader+used]...)
				next = nn
			}
			if err := fn(value); err != nil {
				return err
			}
		}
	}
	return nil
}
