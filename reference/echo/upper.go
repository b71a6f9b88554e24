package echo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"time"
)

// Upper returns a new slice holding b with every byte in 'a'..'z' replaced
// by the matching byte in 'A'..'Z'. Every other byte, bytes >= 0x80
// included, is copied unchanged, so valid UTF-8 stays valid and the length
// never changes. Unlike bytes.ToUpper it never looks at Unicode.
func Upper(b []byte) []byte {
	return appendUpper(make([]byte, 0, len(b)), b)
}

// Masks for the eight-bytes-at-a-time path of appendUpper.
const (
	lo7  = 0x7f7f7f7f7f7f7f7f
	hi   = 0x8080808080808080
	geA  = 0x1f1f1f1f1f1f1f1f // 0x80 - 'a' in each byte
	gtZ  = 0x0505050505050505 // 0x80 - ('z'+1) in each byte
	word = 8
)

// appendUpper appends the uppercase form of src to dst.
func appendUpper(dst, src []byte) []byte {
	n := len(dst)
	dst = append(dst, src...)
	out := dst[n:]
	i := 0
	for ; i+word <= len(out); i += word {
		w := binary.LittleEndian.Uint64(out[i:])
		h := w & lo7
		// A byte is in 'a'..'z' when its low seven bits are >= 'a' and
		// < 'z'+1 and its top bit is clear; none of the additions can
		// carry into the next byte because h's bytes are <= 0x7f.
		lower := (h + geA) &^ (h + gtZ) &^ w & hi
		if lower != 0 {
			binary.LittleEndian.PutUint64(out[i:], w^(lower>>2))
		}
	}
	for ; i < len(out); i++ {
		if c := out[i]; c-'a' < 26 {
			out[i] = c - ('a' - 'A')
		}
	}
	return dst
}

// serveUppercase runs the uppercase line protocol on c; see the package
// documentation for the rules.
func (s *Server) serveUppercase(c net.Conn) {
	defer c.Close()
	maxLine := s.maxLine()
	idle := s.idleTimeout()
	buf := make([]byte, readBufSize)
	pending := make([]byte, 0, min(maxLine, readBufSize))
	var out []byte
	if c.SetReadDeadline(time.Now().Add(idle)) != nil {
		return
	}
	for {
		n, rerr := c.Read(buf)
		data := buf[:n]
		out = out[:0]
		sawLine, tooLong := false, false
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			// Lines are at most MaxLine bytes, LF included: once MaxLine
			// bytes of a line have arrived without an LF the server
			// answers with the error line and closes.
			if (i < 0 && len(pending)+len(data) >= maxLine) || (i >= 0 && len(pending)+i >= maxLine) {
				tooLong = true
				break
			}
			if i < 0 {
				pending = append(pending, data...)
				break
			}
			out = appendUpper(out, pending)
			out = appendUpper(out, data[:i+1])
			pending = pending[:0]
			data = data[i+1:]
			sawLine = true
		}
		if tooLong {
			out = append(out, LineTooLongReply...)
			if s.write(c, out) == nil {
				lingerClose(c)
			}
			s.logf("%v from %v", ErrLineTooLong, c.RemoteAddr())
			return
		}
		if len(out) > 0 && s.write(c, out) != nil {
			return
		}
		if sawLine && c.SetReadDeadline(time.Now().Add(idle)) != nil {
			return
		}
		if rerr != nil {
			// The client half-closed: a pending partial line is answered
			// as it is, without an LF, and the connection ends.
			if errors.Is(rerr, io.EOF) {
				if len(pending) > 0 && s.write(c, appendUpper(out[:0], pending)) != nil {
					return
				}
				closeWrite(c)
			}
			return
		}
	}
}

// closeWrite sends a FIN after everything written so far, where c supports
// half-close; the deferred Close does the rest.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}
