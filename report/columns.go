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
	width []int
}

func (c *columns) add(cells ...string) {
	if c.width == nil {
		c.width = make([]int, len(cells))
	}
	for i, s := range cells {
		if hasControl(s) {
			s = strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f {
					return ' '
				}
				return r
			}, s)
			cells[i] = s
		}
		if i < len(cells)-1 {
			c.width[i] = max(c.width[i], utf8.RuneCountInString(s))
		}
	}
	c.cells = append(c.cells, cells)
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

func (c *columns) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, row := range c.cells {
		for i, s := range row {
			bw.WriteString(s)
			if i == len(row)-1 {
				break
			}
			for pad := c.width[i] + 2 - utf8.RuneCountInString(s); pad > 0; pad -= len(spaces) {
				bw.WriteString(spaces[:min(pad, len(spaces))])
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
