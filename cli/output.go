package cli

import (
	"bufio"
	"io"
)

// renderBuffered renders through a buffer: the table writer (tabwriter)
// writes each cell apart, and on an unbuffered stdout a 10,000-finding
// table was 132,000 write system calls; buffered, it is a few hundred.
// What render wrote before an error is dropped.
func renderBuffered(w io.Writer, render func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := render(bw); err != nil {
		return err
	}
	return bw.Flush()
}
