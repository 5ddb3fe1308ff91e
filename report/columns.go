package report

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// columns lays rows of cells out as text/tabwriter does with
// NewWriter(w, 0, 4, 2, ' ', 0) when every line has as many cells: each cell
// but the last padded to its column's widest cell (in runes) plus two spaces.
// text/tabwriter cost a fifth of a warm `clairctl scan` of a large image
// (10,000 rows): it copies every cell into its own buffer and formats line
// by line through fmt; this keeps the cells as given and writes each once.
// Unlike tabwriter, a control character inside a cell (a package name
// from a hostile database) is shown as a space: a tab or newline would
// start a column or a line, an escape would drive the terminal.
type columns struct {
	cells [][]string
}

func (c *columns) add(cells ...string) { c.cells = append(c.cells, cells) }

func (c *columns) write(w io.Writer) error {
	if len(c.cells) == 0 {
		return nil
	}
	return writeColumns(w, len(c.cells[0]), len(c.cells), func(i int, cells []string) { copy(cells, c.cells[i]) })
}

// writeColumns is columns without keeping the cells: it lays out n rows of
// ncol cells, asking fill for row i's cells twice, once to measure the
// columns and once to write them, so that a table of 10,000 rows (a
// large image's findings) holds one row at a time rather than 1.5 MB.
func writeColumns(w io.Writer, ncol, n int, fill func(i int, cells []string)) error {
	cells := make([]string, ncol)
	width := make([]int, ncol)
	for i := range n {
		fill(i, cells)
		for j, s := range cells[:ncol-1] {
			width[j] = max(width[j], utf8.RuneCountInString(printable(s)))
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := range n {
		fill(i, cells)
		for j, s := range cells {
			s = printable(s)
			bw.WriteString(s)
			if j == ncol-1 {
				break
			}
			for pad := width[j] + 2 - utf8.RuneCountInString(s); pad > 0; pad -= len(spaces) {
				bw.WriteString(spaces[:min(pad, len(spaces))])
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// printable is s with each ASCII control character made a space.
func printable(s string) string {
	if !hasControl(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// hasControl is true when s holds an ASCII control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

var spaces = strings.Repeat(" ", 256)
