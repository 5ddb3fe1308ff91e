package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Header tags the scanner reads (rpm's lib/rpmtag.h).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagArch            = 1022
	tagSourceRPM       = 1044
	tagModularityLabel = 5096
)

// Header entry types.
const (
	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// Bounds from rpm's lib/header.c (hdrchkTags, hdrchkData).
const (
	maxTags = 0xffff
	maxData = 256 << 20
)

// header is the part of one package header the scanner keeps.
type header struct {
	name, version, release, arch, sourceRPM, modularityLabel string
	epoch                                                    int64 // -1 when absent
}

// parseHeader reads an rpmdb header blob: two big-endian counts (index
// entries, data bytes), the index of 16-byte entries (tag, type, offset,
// count) and the data. Only the tags above are looked at, each bounds-checked,
// so a damaged blob gives an error and never a panic.
func parseHeader(b []byte) (*header, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("header of %d bytes, shorter than its 8-byte preamble", len(b))
	}
	il := binary.BigEndian.Uint32(b)
	dl := binary.BigEndian.Uint32(b[4:])
	if il == 0 || il > maxTags || dl > maxData {
		return nil, fmt.Errorf("header with %d tags and %d data bytes", il, dl)
	}
	need := 8 + uint64(il)*16 + uint64(dl)
	if uint64(len(b)) < need {
		return nil, fmt.Errorf("header truncated: %d bytes, its counts need %d", len(b), need)
	}
	index := b[8 : 8+il*16]
	data := b[8+il*16 : need]
	h := &header{epoch: -1}
	seen := map[uint32]bool{}
	for i := uint32(0); i < il; i++ {
		e := index[i*16 : i*16+16]
		tag := binary.BigEndian.Uint32(e)
		typ := binary.BigEndian.Uint32(e[4:])
		off := binary.BigEndian.Uint32(e[8:])
		cnt := binary.BigEndian.Uint32(e[12:])
		var dst *string
		switch tag {
		case tagName:
			dst = &h.name
		case tagVersion:
			dst = &h.version
		case tagRelease:
			dst = &h.release
		case tagArch:
			dst = &h.arch
		case tagSourceRPM:
			dst = &h.sourceRPM
		case tagModularityLabel:
			dst = &h.modularityLabel
		case tagEpoch:
		default:
			continue
		}
		if seen[tag] {
			continue // the first one wins, as in rpm's headerGet
		}
		seen[tag] = true
		if off >= uint32(len(data)) {
			return nil, fmt.Errorf("tag %d: data offset %d past the %d data bytes", tag, off, len(data))
		}
		if tag == tagEpoch {
			if typ != typeInt32 || cnt < 1 || uint64(off)+4 > uint64(len(data)) {
				return nil, fmt.Errorf("tag %d (epoch): type %d count %d at offset %d is not an int32", tag, typ, cnt, off)
			}
			h.epoch = int64(binary.BigEndian.Uint32(data[off:]))
			continue
		}
		if typ != typeString && typ != typeI18NString && typ != typeStringArray {
			return nil, fmt.Errorf("tag %d: type %d where a string is expected", tag, typ)
		}
		s := data[off:]
		n := bytes.IndexByte(s, 0)
		if n < 0 {
			return nil, fmt.Errorf("tag %d: string at offset %d is not terminated", tag, off)
		}
		*dst = string(s[:n])
	}
	if h.name == "" {
		return nil, errors.New("header without a package name")
	}
	return h, nil
}
