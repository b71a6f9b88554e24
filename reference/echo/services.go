package echo

import (
	"errors"
	"io"
	"net"
	"time"
)

// serveEcho runs RFC 862 echo on c.
func (s *Server) serveEcho(c net.Conn) {
	defer c.Close()
	idle := s.idleTimeout()
	buf := make([]byte, readBufSize)
	for {
		if c.SetReadDeadline(time.Now().Add(idle)) != nil {
			return
		}
		n, rerr := c.Read(buf)
		// RFC 862: "Once a connection is established any data received is
		// sent back."
		if n > 0 && s.write(c, buf[:n]) != nil {
			return
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				closeWrite(c)
			}
			return
		}
	}
}

// serveDiscard runs RFC 863 discard on c.
func (s *Server) serveDiscard(c net.Conn) {
	defer c.Close()
	idle := s.idleTimeout()
	buf := make([]byte, readBufSize)
	for {
		if c.SetReadDeadline(time.Now().Add(idle)) != nil {
			return
		}
		// RFC 863: "Once a connection is established any data received is
		// thrown away. No response is sent."
		if _, err := c.Read(buf); err != nil {
			if errors.Is(err, io.EOF) {
				closeWrite(c)
			}
			return
		}
	}
}

// daytimeLayout is RFC 867's "Weekday, Month Day, Year Time-Zone" in Go
// layout form; the zone is always UTC and is appended as "-UTC".
const daytimeLayout = "Monday, January 2, 2006 15:04:05"

// appendDaytime appends the daytime line for t, converted to UTC, to b.
func appendDaytime(b []byte, t time.Time) []byte {
	b = t.UTC().AppendFormat(b, daytimeLayout)
	return append(b, "-UTC\r\n"...)
}

// serveDaytime runs RFC 867 daytime on c.
func (s *Server) serveDaytime(c net.Conn) {
	// RFC 867: "Once a connection is established the current date and time
	// is sent out the connection as a ascii character string (and any data
	// received is thrown away). The service closes the connection after
	// sending the quote."
	if s.write(c, appendDaytime(nil, s.now())) != nil {
		c.Close()
		return
	}
	lingerClose(c)
}

// RFC 864 pattern geometry.
const (
	chargenPrintable = 95 // 0x20..0x7E
	chargenWidth     = 72 // characters per line, CRLF not counted
	chargenLine      = chargenWidth + 2
	chargenDatagram  = 512 // RFC 864: "between 0 and 512" characters per UDP reply
)

// chargenCycle is one full period of the TCP chargen stream: 95 lines, after
// which line n+95 equals line n.
var chargenCycle = func() []byte {
	b := make([]byte, 0, chargenPrintable*chargenLine)
	for n := range chargenPrintable {
		for k := range chargenWidth {
			b = append(b, byte(0x20+(n+k)%chargenPrintable))
		}
		b = append(b, '\r', '\n')
	}
	return b
}()

// serveChargen runs RFC 864 chargen on c.
func (s *Server) serveChargen(c net.Conn) {
	// RFC 864: "Once a connection is established a stream of data is sent
	// out the connection (and any data received is thrown away). This
	// continues until the calling user terminates the connection."
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.drain(c)
	}()
	for s.write(c, chargenCycle) == nil {
	}
	c.Close()
	<-done
}

// drain reads and drops c's input until an error, a read that waits longer
// than IdleTimeout included.
func (s *Server) drain(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if c.SetReadDeadline(time.Now().Add(s.idleTimeout())) != nil {
			return
		}
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
