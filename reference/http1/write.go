package http1

import (
	"bufio"
	"io"
	"strconv"
)

// Write serializes r in HTTP/1.1 wire format: the request-line and header
// fields as held in r, then r.Body framed as r says (one chunk, the
// last-chunk and r.Trailer when Chunked, else the raw bytes). Parsing the
// output with ParseRequest gives back the same request.
func (r *Request) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(r.Target)
	bw.WriteByte(' ')
	bw.WriteString(r.Proto)
	bw.WriteString("\r\n")
	writeFields(bw, r.Header)
	bw.WriteString("\r\n")
	if r.Chunked {
		if len(r.Body) > 0 {
			bw.WriteString(strconv.FormatInt(int64(len(r.Body)), 16))
			bw.WriteString("\r\n")
			bw.Write(r.Body)
			bw.WriteString("\r\n")
		}
		bw.WriteString("0\r\n")
		writeFields(bw, r.Trailer)
		bw.WriteString("\r\n")
	} else {
		bw.Write(r.Body)
	}
	return bw.Flush()
}

func writeFields(bw *bufio.Writer, h Header) {
	for _, f := range h {
		bw.WriteString(f.Name)
		bw.WriteString(": ")
		bw.WriteString(f.Value)
		bw.WriteString("\r\n")
	}
}
