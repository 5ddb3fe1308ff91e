package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestColumnsAsTabwriter checks that columns writes what text/tabwriter
// wrote for the table before it (same settings), byte for byte, on cells
// of every width including multi-byte runes and empty cells.
func TestColumnsAsTabwriter(t *testing.T) {
	words := []string{"", "-", "libssl3", "3.0.15-1~deb12u1", "CVE-2024-9143", "Medium (CVSS)", "yes, ransomware",
		"usr/lib/python3/dist-packages", "Debian GNU/Linux 12", "straße", "日本語のパッケージ", strings.Repeat("x", 300)}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		ncol := 1 + r.IntN(9)
		var tw, cw bytes.Buffer
		tab := tabwriter.NewWriter(&tw, 0, 4, 2, ' ', 0)
		var c columns
		for range r.IntN(12) {
			cells := make([]string, ncol)
			for i := range cells {
				cells[i] = words[r.IntN(len(words))]
			}
			fmt.Fprintln(tab, strings.Join(cells, "\t"))
			c.add(cells...)
		}
		if err := tab.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := c.write(&cw); err != nil {
			t.Fatal(err)
		}
		if tw.String() != cw.String() {
			t.Fatalf("case %d: columns wrote\n%q\ntabwriter wrote\n%q", n, cw.String(), tw.String())
		}
	}
}

// TestColumnsControlCharacters: a tab, newline or terminal escape inside a
// cell (a package name from a hostile database) is a space in its cell.
func TestColumnsControlCharacters(t *testing.T) {
	var c columns
	c.add("A", "B", "C")
	c.add("evil\tname", "1.0\nX", "\x1b[2Jz\x7f")
	var b bytes.Buffer
	if err := c.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "A          B      C\nevil name  1.0 X   [2Jz \n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
