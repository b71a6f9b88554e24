package main

import (
	"bufio"
	"io"
	"text/tabwriter"
)

// table is an aligned text table written through a buffer: a tabwriter
// alone writes every cell with its own Write, one system call per cell on
// a terminal or a file (a capture's flow list made 95,000 of them).
type table struct {
	*tabwriter.Writer
	bw *bufio.Writer
}

func newTable(w io.Writer) *table {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &table{Writer: tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0), bw: bw}
}

// Flush aligns and writes out everything written so far.
func (t *table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	return t.bw.Flush()
}
