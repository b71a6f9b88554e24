package http1

import (
	"bufio"
	"io"
)

// ChunkedReader decodes the chunked transfer coding (RFC 9112 7.1) from a
// bufio.Reader: chunk sizes in hex, chunk extensions (validated, then
// ignored), and the trailer section, kept in Trailer once Read returns io.EOF.
type ChunkedReader struct {
	br  *bufio.Reader
	lim Limits
	// left is how many data bytes of the current chunk remain.
	left int64
	// inChunk is true between a chunk-size line and the CRLF after its data.
	inChunk bool
	err     error
	// Trailer holds the allowed trailer fields after the last chunk.
	Trailer Header
}

// NewChunkedReader returns a decoder reading from br; lim bounds the
// trailer section.
func NewChunkedReader(br *bufio.Reader, lim Limits) *ChunkedReader {
	return &ChunkedReader{br: br, lim: lim.withDefaults()}
}

// Read implements io.Reader. Framing errors are *StatusError values
// wrapping ErrBadChunk; a stream that ends early gives io.ErrUnexpectedEOF.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	for c.err == nil {
		if c.inChunk && c.left > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			if int64(len(p)) > c.left {
				p = p[:c.left]
			}
			n, err := c.br.Read(p)
			c.left -= int64(n)
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				c.err = err
			}
			return n, err
		}
		if c.inChunk {
			// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
			c.err = c.readCRLF()
			c.inChunk = false
			continue
		}
		c.err = c.readSizeLine()
	}
	return 0, c.err
}

func (c *ChunkedReader) readCRLF() error {
	b1, err := c.br.ReadByte()
	if err != nil {
		return eofUnexpected(err)
	}
	b2, err := c.br.ReadByte()
	if err != nil {
		return eofUnexpected(err)
	}
	if b1 != '\r' || b2 != '\n' {
		return statusErr(400, ErrBadChunk, "chunk data not followed by CRLF")
	}
	return nil
}

func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readSizeLine reads chunk-size [ chunk-ext ] CRLF, or the last-chunk and
// the trailer section.
func (c *ChunkedReader) readSizeLine() error {
	line, crlf, _, err := readLine(c.br, maxChunkLine)
	if err == ErrLineTooLong {
		return statusErr(400, ErrBadChunk, "chunk-size line too long")
	}
	if err != nil {
		return eofUnexpected(err)
	}
	if !crlf {
		// Chunk framing needs CRLF: accepting a bare LF here is a known
		// request smuggling vector between differing parsers.
		return statusErr(400, ErrBadChunk, "chunk-size line not ended by CRLF")
	}
	size, rest, err := parseChunkSize(line)
	if err != nil {
		return err
	}
	if err := checkChunkExt(rest); err != nil {
		return err
	}
	if size > 0 {
		c.left, c.inChunk = size, true
		return nil
	}
	// last-chunk = 1*("0") [ chunk-ext ] CRLF, then trailer-section CRLF.
	// RFC 9112 7.1.2: "A recipient that removes the chunked coding from a
	// message MAY selectively retain or discard the received trailer
	// fields."
	if err := readFields(c.br, &c.Trailer, c.lim, true); err != nil {
		if se, ok := err.(*StatusError); ok && se.Code != 431 {
			se.Err = ErrBadChunk
		}
		if se, ok := err.(*StatusError); ok && se.Code == 431 {
			se.Code, se.Reason = 400, "trailer section too large"
		}
		return eofUnexpected(err)
	}
	return io.EOF
}

// parseChunkSize parses chunk-size = 1*HEXDIG and returns what follows.
func parseChunkSize(line []byte) (int64, []byte, error) {
	var n int64
	i, sig := 0, 0
	for ; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			break
		}
		if n != 0 || d != 0 {
			sig++
		}
		// RFC 9112 7.1: "Recipients MUST anticipate potentially large
		// hexadecimal numerals and prevent parsing errors due to integer
		// conversion overflows or precision loss due to integer
		// representation."
		if sig > 15 {
			return 0, nil, statusErr(400, ErrBadChunk, "chunk-size overflows")
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, nil, statusErr(400, ErrBadChunk, "missing chunk-size")
	}
	return n, line[i:], nil
}

// checkChunkExt validates chunk-ext = *( BWS ";" BWS chunk-ext-name
// [ BWS "=" BWS chunk-ext-val ] ), chunk-ext-val = token / quoted-string.
// RFC 9112 7.1.1: "A recipient MUST ignore unrecognized chunk extensions."
func checkChunkExt(b []byte) error {
	bad := statusErr(400, ErrBadChunk, "malformed chunk extension")
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	tok := func() bool {
		s := i
		for i < len(b) && isTchar(b[i]) {
			i++
		}
		return i > s
	}
	for {
		ws()
		if i == len(b) {
			return nil
		}
		if b[i] != ';' {
			return bad
		}
		i++
		ws()
		if !tok() {
			return bad
		}
		ws()
		if i == len(b) || b[i] != '=' {
			continue
		}
		i++
		ws()
		if i < len(b) && b[i] == '"' {
			i++
			for {
				if i >= len(b) {
					return bad
				}
				c := b[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i >= len(b) {
						return bad
					}
				} else if c < 0x20 && c != '\t' || c == 0x7f {
					return bad
				}
				i++
			}
		} else if !tok() {
			return bad
		}
	}
}
