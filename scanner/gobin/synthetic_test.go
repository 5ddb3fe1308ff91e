package gobin

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/openclair/clair/scanner"
	"github.com/openclair/clair/scanner/scannertest"
)

// syntheticELF builds the smallest ELF file debug/buildinfo reads: one
// writable PT_LOAD segment holding a Go 1.18+ build information blob with the
// strings inline. pad grows the file past the scanner's minimum size.
func syntheticELF(goVersion, mod string, pad int) []byte {
	var blob bytes.Buffer
	blob.Write(buildInfoMagic)
	blob.WriteByte(8)   // pointer size
	blob.WriteByte(0x2) // little endian, strings inline
	blob.Write(make([]byte, 32-blob.Len()))
	putString := func(s string) {
		blob.Write(binary.AppendUvarint(nil, uint64(len(s))))
		blob.WriteString(s)
	}
	putString(goVersion)
	if mod != "" {
		// cmd/go wraps the module information in 16-byte sentinels.
		putString(strings.Repeat("\x30", 16) + mod + strings.Repeat("\x31", 16))
	} else {
		putString("")
	}
	// Real binaries have more data after the blob; the reader relies on it.
	blob.Write(make([]byte, 64))
	const hdr = 64 + 56
	var b bytes.Buffer
	eh := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64,
	}
	copy(eh.Ident[:], "\x7fELF")
	eh.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	eh.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	eh.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	ph := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: hdr,
		Vaddr: 0x10000, Paddr: 0x10000, Filesz: uint64(blob.Len()), Memsz: uint64(blob.Len()), Align: 16,
	}
	binary.Write(&b, binary.LittleEndian, &eh)
	binary.Write(&b, binary.LittleEndian, &ph)
	b.Write(blob.Bytes())
	b.Write(make([]byte, pad))
	return b.Bytes()
}

var replacedInfo = &debug.BuildInfo{
	Path: "example.com/cmd/tool",
	Main: debug.Module{Path: "example.com/cmd", Version: "v1.4.0", Sum: "h1:AAAA"},
	Deps: []*debug.Module{
		{Path: "golang.org/x/text", Version: "v0.3.0", Sum: "h1:BBBB",
			Replace: &debug.Module{Path: "golang.org/x/text", Version: "v0.3.8", Sum: "h1:CCCC"}},
		{Path: "github.com/old/name", Version: "v1.0.0", Sum: "h1:DDDD",
			Replace: &debug.Module{Path: "github.com/fork/name", Version: "v1.0.1-fork", Sum: "h1:EEEE"}},
		{Path: "example.com/local", Version: "v0.0.0",
			Replace: &debug.Module{Path: "../local"}},
		{Path: "github.com/Azure/azure-sdk-for-go", Version: "v68.0.0+incompatible", Sum: "h1:FFFF"},
	},
}

func TestSyntheticReplacements(t *testing.T) {
	b := syntheticELF("go1.21rc2", replacedInfo.String()+"\n", 2048)
	r := scannertest.MustScan(t, &Scanner{}, "usr/bin/tool", b)
	if len(r.Warnings) > 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	want := []string{
		"example.com/cmd@v1.4.0",
		"github.com/Azure/azure-sdk-for-go@v68.0.0+incompatible",
		"github.com/fork/name@v1.0.1-fork",
		"golang.org/x/text@v0.3.8",
		"stdlib@v1.21.0-rc.2",
	}
	got := modSet(r.Packages)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, p := range r.Packages {
		if p.Name == "github.com/Azure/azure-sdk-for-go" && p.Purl != "pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0%2Bincompatible" {
			t.Errorf("purl %q", p.Purl)
		}
	}

	// go version -m agrees, but for the directory replacement, which the
	// scanner leaves out.
	f := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(f, b, 0o755); err != nil {
		t.Fatal(err)
	}
	gv := goVersionM(t, f)
	if !reflect.DeepEqual(gv, want) {
		t.Errorf("go version -m %q\n     want %q", gv, want)
	}
}

func TestSyntheticDamaged(t *testing.T) {
	b := syntheticELF("go1.22.1", "", 2048)
	r := scannertest.MustScan(t, &Scanner{}, "usr/bin/plain", b)
	if got := modSet(r.Packages); len(r.Warnings) > 0 || !reflect.DeepEqual(got, []string{"stdlib@v1.22.1"}) {
		t.Errorf("no modules: %q, warnings %q", got, r.Warnings)
	}
	// The segment claims more than the file has.
	full := syntheticELF("go1.22.1", replacedInfo.String()+"\n", 0)
	cut := bytes.Clone(full[:len(full)-200])
	r, err := (&Scanner{}).Scan(context.Background(), scanner.File{Path: "usr/bin/cut", R: bytes.NewReader(cut)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Packages) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "usr/bin/cut") {
		t.Errorf("cut: %d packages, warnings %q", len(r.Packages), r.Warnings)
	}
	// A development toolchain has no stdlib version to report.
	r = scannertest.MustScan(t, &Scanner{}, "usr/bin/devel", syntheticELF("devel go1.23-abcdef Tue Jan 1", "", 2048))
	if len(r.Packages) != 0 || len(r.Warnings) != 0 {
		t.Errorf("devel: %+v", r)
	}
}
