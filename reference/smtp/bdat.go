package smtp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
)

// CHUNKING (RFC 3030): BDAT sends the message in chunks of a size given
// up front, with no dot-stuffing and no end-of-data line; the message
// goes to the store as it arrives, and the 250 to BDAT LAST comes only
// once the store committed it.

// chunking is the state of a transaction whose message comes by BDAT.
type chunking struct {
	draft  *mailstore.Draft
	size   int64
	start  time.Time
	failed bool // refused: every later BDAT gets 503 until RSET
	sink   chunkSink
}

// chunkSink takes the chunks' octets: into the draft until an error, and
// through the Received counter of the header.
type chunkSink struct {
	draft *mailstore.Draft
	err   error
	hops  hopCounter
}

func (s *chunkSink) Write(p []byte) (int, error) {
	s.hops.scan(p)
	if s.draft != nil && s.err == nil {
		_, s.err = s.draft.Write(p)
	}
	return len(p), nil
}

// hopCounter counts the Received fields of a header seen in pieces: the
// lines that begin with "Received:" before the first empty line.
type hopCounter struct {
	body  bool
	col   int  // octets of the current line so far
	match bool // the current line begins like "Received:" so far
	last  byte
	hops  int
}

func (h *hopCounter) scan(p []byte) {
	const field = "received:"
	for _, b := range p {
		if h.body {
			return
		}
		lc := b
		if lc >= 'A' && lc <= 'Z' {
			lc += 'a' - 'A'
		}
		switch {
		case b == '\n':
			if h.col == 0 || h.col == 1 && h.last == '\r' {
				h.body = true
			}
			h.col = -1
		case h.col == 0:
			h.match = lc == field[0]
		case h.col < len(field):
			h.match = h.match && lc == field[h.col]
			if h.col == len(field)-1 && h.match {
				h.hops++
			}
		}
		h.col++
		h.last = b
	}
}

// parseBDAT parses the argument of BDAT; RFC 3030 2: bdat-cmd ::= "BDAT"
// SP chunk-size [ SP end-marker ] CR LF, chunk-size ::= 1*DIGIT,
// end-marker ::= "LAST".
func parseBDAT(arg string) (size int64, last bool, err error) {
	n, marker, hasMarker := strings.Cut(arg, " ")
	if hasMarker {
		if !strings.EqualFold(marker, "LAST") {
			return 0, false, errors.New("syntax")
		}
		last = true
	}
	if n == "" || len(n) > 18 || strings.Trim(n, "0123456789") != "" {
		return 0, false, errors.New("syntax")
	}
	size, err = strconv.ParseInt(n, 10, 64)
	return size, last, err
}

// bdat runs one BDAT command: its chunk is read whatever the answer, so
// that none of its octets is taken for a command. RFC 3030 2: "If a
// failure occurs after a BDAT command is received, the receiver-SMTP
// MUST accept and discard the associated message data before sending the
// appropriate 5XX or 4XX code."
func (c *session) bdat(arg string) error {
	n, last, err := parseBDAT(arg)
	if err != nil {
		// The chunk's length is unknown: what follows is read as
		// commands again.
		c.fail(501, "5.5.4 Syntax: BDAT chunk-size [LAST] (RFC 3030 2)")
		return nil
	}
	var refusal func()
	switch {
	case !c.esmtp:
		refusal = func() { c.fail(503, "5.5.1 Bad sequence of commands: send EHLO first") }
	case !c.inTx || len(c.rcpts) == 0:
		refusal = func() { c.fail(503, "5.5.1 Bad sequence of commands: need MAIL and RCPT before BDAT") }
	case c.chunks != nil && c.chunks.failed:
		// RFC 3030 2: "the receiver SMTP MUST be prepared to accept and
		// discard additional BDAT chunks already in the pipeline after
		// the failed BDAT. The resulting state from a failed BDAT command
		// is indeterminate. A RSET command MUST be issued to clear the
		// transaction before additional commands may be sent."
		refusal = func() { c.fail(503, "5.5.1 Bad sequence of commands: the message was refused, send RSET") }
	}
	if refusal != nil {
		if err := c.readChunk(n, &chunkSink{}, time.Now()); err != nil {
			return err
		}
		refusal()
		return nil
	}
	if c.chunks == nil {
		c.chunks = &chunking{start: time.Now()}
		draft, err := c.s.Store.NewDraft(c.rcpts...)
		if err != nil {
			c.s.logf("smtp: %s: store: %v", c.ip, err)
			c.chunks.failed = true
			if err := c.readChunk(n, &chunkSink{}, c.chunks.start); err != nil {
				return err
			}
			c.fail(451, "4.3.0 Local error in processing")
			return nil
		}
		c.chunks.draft = draft
		c.chunks.sink.draft = draft
		draft.Write([]byte(c.s.Faults.trace(c.traceFields())))
	}
	ch := c.chunks
	// The SIZE limit (RFC 1870) holds for the whole message, whatever
	// the number of chunks.
	tooBig := ch.size+n > c.maxMessage()
	var sink *chunkSink = &ch.sink
	if tooBig {
		sink = &chunkSink{}
	}
	if err := c.readChunk(n, sink, ch.start); err != nil {
		return err
	}
	ch.size += n
	switch {
	case tooBig || errors.Is(ch.sink.err, mailstore.ErrTooLarge):
		c.failChunks(552, "5.3.4 Message size exceeds fixed maximum message size")
		return nil
	case ch.sink.err != nil:
		c.s.logf("smtp: %s: store: %v", c.ip, ch.sink.err)
		c.failChunks(451, "4.3.0 Local error in processing")
		return nil
	case !last:
		c.reply(250, fmt.Sprintf("2.0.0 %d octets received", n))
		return nil
	case ch.sink.hops.hops > MaxHops:
		c.failChunks(554, "5.4.6 Too many hops: mail loop detected (RFC 5321 6.3)")
		return nil
	}
	mailboxes := len(c.rcpts)
	from, relay := c.from.String(), c.relay
	msgID, err := ch.draft.Commit()
	ch.draft = nil
	c.resetTx()
	if err != nil {
		c.s.logf("smtp: %s: commit: %v", c.ip, err)
		c.fail(451, "4.3.0 Local error in processing")
		return nil
	}
	if err := c.s.queueSpooled(msgID, from, relay); err != nil {
		c.s.logf("smtp: %s: queue: %v", c.ip, err)
		c.fail(451, "4.3.0 Local error in processing")
		return nil
	}
	c.s.logf("smtp: %s: delivered %s to %d mailboxes by BDAT", c.ip, msgID, mailboxes)
	c.reply(250, "2.0.0 Ok: queued as "+msgID)
	return nil
}

// failChunks refuses the message: the draft is dropped and every later
// BDAT of the transaction gets 503.
func (c *session) failChunks(code int, text string) {
	if c.chunks.draft != nil {
		c.chunks.draft.Abort()
		c.chunks.draft = nil
	}
	c.chunks.sink.draft = nil
	c.chunks.failed = true
	c.fail(code, text)
}

// abortChunks drops the message of BDAT chunks, if any.
func (c *session) abortChunks() {
	if c.chunks != nil && c.chunks.draft != nil {
		c.chunks.draft.Abort()
	}
	c.chunks = nil
}

// readChunk passes exactly n octets from the client to w. Every read has
// the data timeout, all the chunks of a message together DataTotal from
// start, and the session its own limit; replies queued are sent before
// the server waits.
func (c *session) readChunk(n int64, w *chunkSink, start time.Time) error {
	perRead, total := orDur(c.s.DataTimeout, DefaultDataTimeout), orDur(c.s.DataTotal, DefaultDataTotal)
	end := min(start.Add(total).UnixNano(), c.start.Add(orDur(c.s.SessionTimeout, DefaultSessionTimeout)).UnixNano())
	for n > 0 {
		if c.r.Buffered() == 0 {
			if err := c.flush(); err != nil {
				return err
			}
			c.conn.SetReadDeadline(time.Unix(0, min(time.Now().Add(perRead).UnixNano(), end)))
			if c.closing.Load() {
				return errShutdown
			}
			if _, err := c.r.Peek(1); err != nil {
				if c.closing.Load() {
					return errShutdown
				}
				return err
			}
		}
		k := int(min(n, int64(c.r.Buffered())))
		b, _ := c.r.Peek(k)
		w.Write(b)
		c.r.Discard(k)
		n -= int64(k)
	}
	return nil
}
