package http1

import (
	"bytes"
	"strconv"
)

// Limits bounds what a Decoder keeps. Zero fields take the defaults.
type Limits struct {
	// MaxStartLine bounds the start line, line end included (16 KiB).
	MaxStartLine int
	// MaxHead bounds the start line and header section, and separately
	// a trailer section, line ends included (64 KiB).
	MaxHead int
	// MaxFields is how many field lines a message keeps (256); more are
	// reported and dropped.
	MaxFields int
	// MaxChunkLine bounds a chunk-size line with its extensions (8 KiB).
	MaxChunkLine int
	// MaxBody is how much content a message keeps (8 MiB); more is
	// counted in BodyLen, not kept, and reported.
	MaxBody int64
	// DiscardBody keeps no content at all (counted, not reported).
	DiscardBody bool
}

// Default limits.
const (
	DefaultMaxStartLine = 16 << 10
	DefaultMaxHead      = 64 << 10
	DefaultMaxFields    = 256
	DefaultMaxChunkLine = 8 << 10
	DefaultMaxBody      = 8 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxStartLine <= 0 {
		l.MaxStartLine = DefaultMaxStartLine
	}
	if l.MaxHead <= 0 {
		l.MaxHead = DefaultMaxHead
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxChunkLine <= 0 {
		l.MaxChunkLine = DefaultMaxChunkLine
	}
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	return l
}

type state uint8

const (
	stStart     state = iota // before a message: empty lines are skipped
	stHead                   // inside the start line and header section
	stBody                   // Content-Length content
	stChunkSize              // a chunk-size line
	stChunkData              // chunk data
	stChunkEnd               // the CRLF after chunk data
	stTrailer                // trailer section
	stClose                  // close-delimited content
	stTunnel                 // after 101 or CONNECT 2xx: not HTTP/1
	stBroken                 // framing lost
	stEnded                  // after Close
)

// Decoder frames one direction of an HTTP/1 connection: fed the bytes as
// they arrive, it yields complete messages in order, with every grammar
// problem reported on the message instead of refused. The zero value is
// not ready: use NewRequestDecoder or NewResponseDecoder.
type Decoder struct {
	lim     Limits
	request bool
	state   state

	// buf carries the bytes of an unfinished head or line between Feeds.
	buf []byte
	// lineStart is where in buf the head's current line starts.
	lineStart int
	// sawCR: the CR after chunk data was read, its LF is due.
	sawCR bool

	cur       *Message
	remaining int64 // content bytes left (stBody, stChunkData)
	trailer   int   // trailer section bytes so far
	// afterNoBody is set after a response that declared content it must
	// not have: bytes that do not start a status-line are that content.
	afterNoBody bool

	done    []*Message // complete messages, done[head:] not yet taken
	head    int
	methods []string // methods of requests not yet answered, oldest first
	mhead   int

	// spare is a recycled message whose storage the next one takes.
	spare *Message
	// done0 and methods0 are the first storage of done and methods, first
	// that of the first message.
	done0    [2]*Message
	methods0 [2]string
	first    messageAlloc

	// feedEnd is the stream offset of the end of the bytes being fed.
	feedEnd int64

	tunnel  bool
	fatal   *Problem
	skipped int64
	fed     int64
}

// NewRequestDecoder returns a decoder for the client-to-server direction.
func NewRequestDecoder(lim Limits) *Decoder {
	d := new(Decoder)
	d.Init(true, lim)
	return d
}

// NewResponseDecoder returns a decoder for the server-to-client direction.
// Tell it the method of each request with Expect, in order, so that it
// applies the HEAD and CONNECT rules.
func NewResponseDecoder(lim Limits) *Decoder {
	d := new(Decoder)
	d.Init(false, lim)
	return d
}

// Init readies d, a Decoder held in a larger value, as NewRequestDecoder
// (request) or NewResponseDecoder would: one allocation can hold a
// capture flow and both its decoders.
func (d *Decoder) Init(request bool, lim Limits) {
	*d = Decoder{lim: lim.withDefaults(), request: request}
	d.done, d.methods = d.done0[:0], d.methods0[:0]
	d.first.m.inline = d.first.fields[:0]
	d.spare = &d.first.m
}

// Reset readies d for a new stream, keeping its storage.
func (d *Decoder) Reset() {
	clear(d.done)
	clear(d.methods)
	// Field by field: the storage (buf, done, methods, spare, the first
	// message's, which the caller may still hold) stays.
	d.state, d.buf, d.lineStart, d.sawCR = stStart, d.buf[:0], 0, false
	d.cur, d.remaining, d.trailer, d.afterNoBody = nil, 0, 0, false
	d.done, d.head, d.methods, d.mhead = d.done[:0], 0, d.methods[:0], 0
	d.feedEnd, d.tunnel, d.fatal, d.skipped, d.fed = 0, false, nil, 0, 0
}

// Expect tells a response decoder the method of the next request on the
// connection; responses take the methods in order (1xx other than 101
// keep it for the final response).
func (d *Decoder) Expect(method string) {
	if d.mhead > 0 && d.mhead == len(d.methods) {
		clear(d.methods)
		d.methods, d.mhead = d.methods[:0], 0
	}
	d.methods = append(d.methods, method)
}

// Next returns the oldest complete message not yet taken.
func (d *Decoder) Next() (*Message, bool) {
	if d.head == len(d.done) {
		return nil, false
	}
	m := d.done[d.head]
	d.done[d.head] = nil
	d.head++
	if d.head == len(d.done) {
		d.done, d.head = d.done[:0], 0
	}
	return m, true
}

// Current is the message being read, nil between messages: its head
// fields are set once the header section is complete, and its Problems
// grow as they are found.
func (d *Decoder) Current() *Message { return d.cur }

// Partial reports whether the decoder holds bytes of a message that is
// not complete yet.
func (d *Decoder) Partial() bool {
	return d.cur != nil || len(d.buf) > 0
}

// Err is the problem that lost the framing, nil while the decoder frames.
func (d *Decoder) Err() error {
	if d.fatal == nil {
		return nil
	}
	return *d.fatal
}

// Tunnel reports that the stream carries something other than HTTP/1
// from here on (after a 101 or a 2xx to CONNECT, or after SetTunnel).
func (d *Decoder) Tunnel() bool { return d.tunnel }

// SetTunnel makes the rest of the stream opaque: a request decoder's
// caller does so when the response switched protocols.
func (d *Decoder) SetTunnel() {
	d.tunnel = true
	if d.state != stEnded {
		d.state = stTunnel
	}
}

// Skipped counts the bytes that belong to no message: fed after the
// framing was lost, in a tunnel or after Close, lost between messages, or
// empty lines at the end of the stream. The messages' Len and Skipped add
// up to Fed.
func (d *Decoder) Skipped() int64 { return d.skipped }

// Fed counts every byte fed or lost.
func (d *Decoder) Fed() int64 { return d.fed }

// WantKind is what a Decoder needs next.
type WantKind uint8

// What a decoder can want.
const (
	// WantNothing: the framing is lost, the stream is a tunnel, or it ended.
	WantNothing WantKind = iota
	// WantLine: up to and including the next LF, at most N bytes.
	WantLine
	// WantBytes: exactly N bytes.
	WantBytes
	// WantClose: everything until the stream ends, then Close.
	WantClose
)

// Want is what a decoder needs to progress without reading past the end
// of the current message; a caller that reads from a connection and must
// leave the next message in it reads what Want says.
type Want struct {
	Kind WantKind
	N    int64
}

// Want says what the decoder needs next.
func (d *Decoder) Want() Want {
	switch d.state {
	case stStart:
		return Want{WantLine, int64(d.lim.MaxStartLine - len(d.buf))}
	case stHead:
		if d.lineStart == 0 {
			return Want{WantLine, int64(d.lim.MaxStartLine - len(d.buf))}
		}
		return Want{WantLine, int64(d.lim.MaxHead - len(d.buf))}
	case stBody:
		return Want{WantBytes, d.remaining}
	case stChunkData:
		return Want{WantBytes, d.remaining + 2}
	case stChunkEnd:
		if d.sawCR {
			return Want{WantBytes, 1}
		}
		return Want{WantBytes, 2}
	case stChunkSize:
		return Want{WantLine, int64(d.lim.MaxChunkLine - len(d.buf))}
	case stTrailer:
		return Want{WantLine, int64(d.lim.MaxHead - d.trailer - len(d.buf))}
	case stClose:
		return Want{WantClose, 0}
	}
	return Want{}
}

// Feed frames p, the next bytes of the stream. Complete messages are
// queued for Next; bytes of an unfinished head or line are copied, content
// is copied into Body up to the limit. p is not kept.
func (d *Decoder) Feed(p []byte) {
	n := int64(len(p) - d.feed(p, false))
	d.skipped += n
	d.fed += n
}

// FeedOne is Feed that stops at the end of the first message it
// completes (or queues cut short), and returns how many bytes of p it
// took: a caller that must see where each message ends (a capture
// dissector keeping each message's bytes, judging what follows) feeds the
// rest again. It takes nothing once the framing is lost, in a tunnel or
// after Close.
func (d *Decoder) FeedOne(p []byte) int {
	return d.feed(p, true)
}

// feed frames what it can of p and returns how much it took; with one,
// it stops once a message is queued.
func (d *Decoder) feed(p []byte, one bool) int {
	total, queued := len(p), len(d.done)
	// A message begun in p starts at feedEnd - len(rest), feedEnd being
	// the stream offset of the end of p.
	d.feedEnd = d.fed + int64(total)
	p = d.frame1(p, one, queued)
	d.fed = d.feedEnd - int64(len(p))
	return total - len(p)
}

// frame1 is feed's loop; it returns what it did not take.
func (d *Decoder) frame1(p []byte, one bool, queued int) []byte {
	for len(p) > 0 && !(one && len(d.done) > queued) {
		switch d.state {
		case stTunnel, stBroken, stEnded:
			return p
		case stClose:
			d.content(p)
			d.cur.Len += int64(len(p))
			return nil
		case stBody, stChunkData:
			n := int(min(d.remaining, int64(len(p))))
			d.content(p[:n])
			d.cur.Len += int64(n)
			d.remaining -= int64(n)
			p = p[n:]
			if d.remaining == 0 {
				if d.state == stBody {
					d.complete()
				} else {
					d.state = stChunkEnd
				}
			}
		case stChunkEnd:
			p = d.chunkEnd(p)
		case stStart:
			p = d.start(p)
		case stHead:
			p = d.headBytes(p)
		case stChunkSize, stTrailer:
			line, rest, ok := d.line(p)
			p = rest
			if ok {
				if d.state == stChunkSize {
					d.chunkSizeLine(line)
				} else {
					d.trailerLine(line)
				}
			}
		}
	}
	return p
}

// Close ends the stream: it completes a close-delimited response and
// queues a message the stream cut short (Incomplete, reported).
func (d *Decoder) Close() { d.end(true) }

// Abort ends a stream that was reset: as Close, but content cut short is
// not reported as the sender's problem.
func (d *Decoder) Abort() { d.end(false) }

func (d *Decoder) end(report bool) {
	if d.state == stClose {
		d.complete()
	} else {
		d.abandon(report, "the stream ended")
	}
	d.state = stEnded
}

// abandon queues the message being read as Incomplete, reporting where
// it was cut when report is set, and stops framing.
func (d *Decoder) abandon(report bool, why string) {
	m := d.cur
	switch d.state {
	case stStart, stHead:
		if m == nil {
			d.skipped += int64(len(d.buf))
			break
		}
		if len(bytes.TrimSpace(d.buf)) == 0 {
			d.skipped += m.Len + int64(len(d.buf))
			break
		}
		m.Incomplete = true
		m.Len += int64(len(d.buf))
		m.StartLine = string(firstLine(d.buf))
		m.problem(KindHeadIncomplete, m.Len, false, why+" inside the head after "+strconv.Itoa(len(d.buf))+" bytes")
		d.queue(m)
	case stBody:
		if report && m.Lost == 0 {
			m.problem(KindBodyIncomplete, m.Len, false, why+" "+strconv.FormatInt(d.remaining, 10)+" bytes before the end of the Content-Length content")
		}
		m.Incomplete = true
		d.queue(m)
	case stChunkSize, stChunkData, stChunkEnd, stTrailer:
		m.Len += int64(len(d.buf))
		if report && m.Lost == 0 {
			m.problem(KindChunkedIncomplete, m.Len, false, why+" inside the chunked content")
		}
		m.Incomplete = true
		d.queue(m)
	case stClose:
		m.Incomplete = true
		d.queue(m)
	}
	d.cur, d.buf, d.sawCR = nil, d.buf[:0], false
	d.state = stBroken
}

// Lost tells the decoder that n bytes of the stream are missing here (a
// gap in a capture). Inside content of known length, or close-delimited
// content, the framing survives: the bytes count as content not kept
// (Message.Lost). Anywhere else the message so far is queued Incomplete
// and framing stops until Resume.
func (d *Decoder) Lost(n int64) {
	if n <= 0 {
		return
	}
	d.fed += n
	m := d.cur
	switch d.state {
	case stTunnel, stBroken, stEnded:
		d.skipped += n
		return
	case stClose:
		m.Len, m.BodyLen, m.Lost, m.BodyTruncated = m.Len+n, m.BodyLen+n, m.Lost+n, true
		return
	case stBody, stChunkData:
		if n <= d.remaining {
			m.Len, m.BodyLen, m.Lost, m.BodyTruncated = m.Len+n, m.BodyLen+n, m.Lost+n, true
			d.remaining -= n
			if d.remaining == 0 {
				if d.state == stBody {
					d.complete()
				} else {
					d.state = stChunkEnd
				}
			}
			return
		}
	}
	if m != nil {
		m.Lost += n
	}
	d.skipped += n
	d.abandon(false, "bytes were lost")
}

// Resume restarts framing after it was lost, at the next byte fed: a
// caller that found where a message starts (a capture dissector
// resynchronising on a request-line) feeds from there.
func (d *Decoder) Resume() {
	if d.state == stBroken {
		d.state, d.fatal, d.afterNoBody = stStart, nil, false
	}
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSuffix(b, []byte("\r"))
}

func (d *Decoder) queue(m *Message) { d.done = append(d.done, m) }

// complete queues the current message and readies the next.
func (d *Decoder) complete() {
	m := d.cur
	d.cur = nil
	d.queue(m)
	switch {
	case m.Tunnel:
		d.state, d.tunnel = stTunnel, true
	case m.Framing == FramingInvalid:
		d.state = stBroken
	default:
		d.state = stStart
	}
}

// lose records a fatal problem on m and stops framing.
func (d *Decoder) lose(m *Message, k Kind, off int64, detail string) {
	m.problem(k, off, true, detail)
	p := m.Problems[len(m.Problems)-1]
	d.fatal = &p
}

// content adds decoded content bytes to the current message.
func (d *Decoder) content(b []byte) {
	m := d.cur
	m.BodyLen += int64(len(b))
	if d.lim.DiscardBody {
		m.BodyTruncated = m.BodyTruncated || len(b) > 0
		return
	}
	room := d.lim.MaxBody - int64(len(m.Body))
	if int64(len(b)) > room {
		if !m.BodyTruncated {
			m.problem(KindBodyTooLarge, m.Len, false, "content over the limit of "+strconv.FormatInt(d.lim.MaxBody, 10)+" bytes: counted, not kept")
		}
		m.BodyTruncated = true
		b = b[:room]
	}
	m.Body = append(m.Body, b...)
}

// overLimit reports (once) content announced beyond MaxBody before it comes.
func (d *Decoder) overLimit(total int64) {
	m := d.cur
	if d.lim.DiscardBody || m.BodyTruncated || total <= d.lim.MaxBody {
		return
	}
	m.BodyTruncated = true
	m.problem(KindBodyTooLarge, m.Len, false, "content of "+strconv.FormatInt(total, 10)+" bytes announced, over the limit of "+strconv.FormatInt(d.lim.MaxBody, 10)+": counted, not kept")
}

// newMessage starts the current message, in the storage of a recycled
// one when there is one.
func (d *Decoder) newMessage(offset int64) {
	if m := d.spare; m != nil {
		// Recycle left it zero but for its storage.
		d.spare = nil
		m.Request, m.ContentLength, m.Major, m.Minor, m.Offset = d.request, -1, -1, -1, offset
		d.cur = m
		return
	}
	x := &messageAlloc{m: Message{Request: d.request, ContentLength: -1, Major: -1, Minor: -1, Offset: offset}}
	x.m.inline = x.fields[:0]
	d.cur = &x.m
}

// maxRecycledFields bounds the field storage a recycled message keeps.
const maxRecycledFields = 64

// Recycle gives m, a message taken from d with Next, back to d, which may
// reuse its storage for a later message: neither m nor anything read from
// it (its Header, Problems, Body) may be used afterwards. A caller that
// only looks at each message once (a load client) saves an allocation
// per message.
func (d *Decoder) Recycle(m *Message) {
	if m == nil || m == d.cur || d.spare != nil {
		return
	}
	h := m.Header
	if cap(h) == 0 {
		h = m.inline // the room no field line took
	}
	if cap(h) > maxRecycledFields {
		h = nil
	}
	// Past its length the room was never written, or was cleared the
	// last time: clearing the fields used lets go of the head they point
	// into.
	clear(h)
	clear(m.Problems)
	*m = Message{inline: h[:0], Problems: m.Problems[:0]}
	if cap(m.inline) == 0 {
		m.inline = make(Header, 0, inlineFields)
	}
	d.spare = m
}

// inlineFields is how many field lines fit in a message's own allocation.
const inlineFields = 8

// messageAlloc is a message and room for its first field lines, allocated
// at once.
type messageAlloc struct {
	m      Message
	fields [inlineFields]Field
}

// start skips the empty lines before a start line (RFC 9112 2.2) and
// moves to stHead at the first other byte.
func (d *Decoder) start(p []byte) []byte {
	if d.cur == nil {
		d.newMessage(d.feedEnd - int64(len(p)))
	}
	m := d.cur
	for len(p) > 0 {
		if len(d.buf) == 1 { // a CR carried from the last Feed
			if p[0] != '\n' {
				d.state, d.lineStart, m.Prefix = stHead, 0, m.Len
				return p
			}
			d.buf = d.buf[:0]
			m.Len += 2
			p = p[1:]
			d.emptyLine(m, true)
			continue
		}
		switch {
		case p[0] == '\n':
			m.Len++
			p = p[1:]
			d.emptyLine(m, false)
		case p[0] == '\r' && len(p) == 1:
			d.buf = append(d.buf, '\r')
			return nil
		case p[0] == '\r' && p[1] == '\n':
			m.Len += 2
			p = p[2:]
			d.emptyLine(m, true)
		default:
			d.state, d.lineStart, m.Prefix = stHead, 0, m.Len
			return p
		}
	}
	return p
}

func (d *Decoder) emptyLine(m *Message, crlf bool) {
	if !m.Has(KindEmptyLineBeforeStart) {
		m.problem(KindEmptyLineBeforeStart, m.Len, false, "empty line before the start line")
	}
	if !crlf && !m.Has(KindBareLF) {
		m.problem(KindBareLF, m.Len, false, "empty line ended by a bare LF")
	}
}

// headBytes collects the head up to its empty line, then parses it. A
// head over a bound loses the framing at the bound, wherever the feeds
// were cut: the bytes past it are skipped.
func (d *Decoder) headBytes(p []byte) []byte {
	m := d.cur
	if len(d.buf) == 0 {
		// The head may be whole in p: parse it from there without a copy.
		end, lineStart := headEnd(p, 0)
		if end > 0 {
			if ok, cut := d.headFits(m, p[:end], true); !ok {
				return p[cut:]
			}
			d.parseHead(p[:end])
			return p[end:]
		}
		if ok, cut := d.headFits(m, p, false); !ok {
			return p[cut:]
		}
		d.buf = append(d.buf, p...)
		d.lineStart = lineStart
		return nil
	}
	for len(p) > 0 {
		// The carried bytes fit; a bound is passed in p's bytes.
		old, q := len(d.buf), p
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			d.buf = append(d.buf, p...)
			if ok, cut := d.headFits(m, d.buf, false); !ok {
				return q[cut-old:]
			}
			return nil
		}
		d.buf = append(d.buf, p[:i+1]...)
		p = p[i+1:]
		line := d.buf[d.lineStart:]
		if d.lineStart > 0 && (len(line) == 1 || len(line) == 2 && line[0] == '\r') {
			if ok, cut := d.headFits(m, d.buf, true); !ok {
				return q[cut-old:]
			}
			d.parseHead(d.buf)
			d.buf, d.lineStart = d.buf[:0], 0
			return p
		}
		d.lineStart = len(d.buf)
		if ok, cut := d.headFits(m, d.buf, false); !ok {
			return q[cut-old:]
		}
	}
	return nil
}

// headEnd finds the end of a head in b (through its empty line), scanning
// from the line start from; else it returns 0 and the start of the last,
// unfinished line.
func headEnd(b []byte, from int) (end, lineStart int) {
	i := from
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0, i
		}
		line := b[i : i+j+1]
		if i > 0 && (len(line) == 1 || len(line) == 2 && line[0] == '\r') {
			return i + j + 1, i
		}
		i += j + 1
		if i == len(b) {
			return 0, i
		}
	}
}

// headFits checks the bounds on head bytes b, the whole head when
// complete, else its start; past them the framing is lost, and the lost
// message takes b up to the first bound passed (cut), as it would had the
// bytes come one by one. An unfinished head needs one more byte at least,
// so it is over a bound it reaches.
func (d *Decoder) headFits(m *Message, b []byte, complete bool) (ok bool, cut int) {
	first := bytes.IndexByte(b, '\n')
	over := len(b) > d.lim.MaxHead
	if !complete {
		over = len(b) >= d.lim.MaxHead
	}
	longLine := first < 0 && len(b) >= d.lim.MaxStartLine || first >= d.lim.MaxStartLine
	switch {
	case longLine && (!over || d.lim.MaxStartLine <= d.lim.MaxHead):
		cut = d.lim.MaxStartLine
		d.lose(m, KindHeadTooLarge, m.Len, "start line longer than "+strconv.Itoa(d.lim.MaxStartLine)+" bytes")
	case over:
		cut = d.lim.MaxHead
		d.lose(m, KindHeadTooLarge, m.Len, "head longer than "+strconv.Itoa(d.lim.MaxHead)+" bytes")
	default:
		return true, 0
	}
	b = b[:cut]
	m.StartLine = string(firstLine(b))
	m.Len += int64(len(b))
	m.Framing = FramingInvalid
	m.Incomplete = true
	d.cur = nil
	d.queue(m)
	d.buf = d.buf[:0]
	d.state = stBroken
	return false, cut
}

// line returns the next whole line of the stream (LF included) from the
// carried bytes and p, and what follows it in p. ok is false when p ended
// first (its bytes are carried) or the line was too long (framing lost).
func (d *Decoder) line(p []byte) (line, rest []byte, ok bool) {
	max := d.lim.MaxChunkLine
	if d.state == stTrailer {
		max = d.lim.MaxHead - d.trailer
	}
	// A line over its bound loses the framing at the bound, wherever the
	// feeds were cut: the bytes past it are skipped.
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if len(d.buf)+len(p) >= max {
			n := max - len(d.buf)
			d.lineTooLong(n)
			return nil, p[n:], false
		}
		d.buf = append(d.buf, p...)
		return nil, nil, false
	}
	if len(d.buf)+i+1 > max {
		n := max - len(d.buf)
		d.lineTooLong(n)
		return nil, p[n:], false
	}
	if len(d.buf) == 0 {
		return p[:i+1], p[i+1:], true
	}
	d.buf = append(d.buf, p[:i+1]...)
	line = d.buf
	d.buf = d.buf[:0]
	return line, p[i+1:], true
}

// lineTooLong loses the framing on a line longer than its bound, of which
// the carried bytes and n more were read.
func (d *Decoder) lineTooLong(n int) {
	m := d.cur
	if d.state == stTrailer {
		d.lose(m, KindHeadTooLarge, m.Len, "trailer section longer than "+strconv.Itoa(d.lim.MaxHead)+" bytes")
	} else {
		d.lose(m, KindChunkLineTooLong, m.Len, "chunk-size line longer than "+strconv.Itoa(d.lim.MaxChunkLine)+" bytes")
	}
	m.Incomplete = true
	m.Framing = FramingInvalid
	m.Len += int64(len(d.buf) + n)
	d.buf = d.buf[:0]
	d.complete()
}

// chunkEnd reads the CRLF after chunk data (RFC 9112 7.1).
func (d *Decoder) chunkEnd(p []byte) []byte {
	m := d.cur
	c := p[0]
	switch {
	case d.sawCR && c == '\n':
		d.sawCR = false
		m.Len++
		d.state = stChunkSize
		return p[1:]
	case d.sawCR:
		d.sawCR = false
	case c == '\r':
		d.sawCR = true
		m.Len++
		return p[1:]
	case c == '\n':
		m.problem(KindChunkDataEnd, m.Len, false, "chunk data followed by a bare LF")
		m.Len++
		d.state = stChunkSize
		return p[1:]
	}
	d.lose(m, KindChunkDataEnd, m.Len, "chunk data not followed by CRLF: byte "+strconv.QuoteRune(rune(c)))
	m.Framing, m.Incomplete = FramingInvalid, true
	d.complete()
	return p
}
