package http1

import (
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// parseHead parses a whole head (start line through the empty line),
// decides the framing (RFC 9112 6.3) and moves to the content.
func (d *Decoder) parseHead(b []byte) {
	m := d.cur
	base := m.Len // offset of the head in the message
	m.Len += int64(len(b))
	h := string(b) // every string of the message shares this copy
	m.Head = h
	var clBuf, teBuf [2]string
	f := framingFields{cl: clBuf[:0], te: teBuf[:0]}
	off := 0
	first, fields := true, false
	for off < len(h) {
		if !first && h[off] != '\r' && h[off] != '\n' {
			if !fields {
				// Field lines follow the start line: the first ones go
				// in the message's own room, more grow it.
				fields = true
				m.Header, m.inline = m.inline, nil
			}
			// The common case, a valid field line, is read in one pass.
			if n, kind, value, ok := d.plainFieldLine(&m.Header, h[off:]); ok {
				off += n
				switch kind {
				case fieldContentLength:
					f.cl = append(f.cl, value)
				case fieldTransferEncoding:
					f.te = append(f.te, value)
				case fieldHost:
					f.hosts++
				}
				continue
			}
		}
		nl := strings.IndexByte(h[off:], '\n')
		raw := h[off : off+nl+1]
		lineOff := base + int64(off)
		off += nl + 1
		line := raw[:len(raw)-1]
		if strings.HasSuffix(line, "\r") {
			line = line[:len(line)-1]
		} else {
			m.BareLF = true
			if !m.Has(KindBareLF) {
				m.problem(KindBareLF, lineOff, false, "line ended by a bare LF: "+excerpt(line, 60))
			}
		}
		if strings.IndexByte(line, '\r') >= 0 {
			// RFC 9112 2.2: "A sender MUST NOT generate a bare CR
			// (a CR character not immediately followed by LF) within
			// any protocol elements other than the content."
			m.problem(KindBareCR, lineOff, false, "bare CR in "+excerpt(line, 60))
		}
		if first {
			first = false
			m.StartLine = line
			if d.request {
				d.requestLine(m, line, lineOff)
			} else {
				d.statusLine(m, line, lineOff)
			}
			continue
		}
		if line == "" {
			break
		}
		if !fields {
			fields = true
			m.Header, m.inline = m.inline, nil
		}
		switch kind, value := d.fieldLine(m, &m.Header, line, lineOff); kind {
		case fieldContentLength:
			f.cl = append(f.cl, value)
		case fieldTransferEncoding:
			f.te = append(f.te, value)
		case fieldHost:
			f.hosts++
		}
	}
	d.frame(m, &f, base)
}

// plainFieldLine is fieldLine for a line that breaks no rule, at the
// start of rest: a token, a colon, optional whitespace, a value of VCHAR,
// SP, HTAB and obs-text, CRLF. It reads such a line in one pass and
// returns its length with the CRLF; ok is false for any other line, which
// fieldLine then reads and reports.
func (d *Decoder) plainFieldLine(h *Header, rest string) (n, kind int, value string, ok bool) {
	i := 0
	for i < len(rest) && tokenByte[rest[i]] {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != ':' || len(*h) >= d.lim.MaxFields {
		return 0, fieldOther, "", false
	}
	j := i + 1
	for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
		j++
	}
	k := j
	for k < len(rest) && !badValueByte[rest[k]] {
		k++
	}
	// The value stops at a CR (or another byte it may not hold): only
	// CRLF ends a plain line.
	if k+1 >= len(rest) || rest[k] != '\r' || rest[k+1] != '\n' {
		return 0, fieldOther, "", false
	}
	end := k
	for end > j && (rest[end-1] == ' ' || rest[end-1] == '\t') {
		end--
	}
	name, value := rest[:i], rest[j:end]
	*h = append(*h, Field{Name: name, Value: value, Line: rest[:k]})
	return k + 2, framingKind(name), value, true
}

// framingKind tells a framing field by its name, an ASCII token (a name
// of another length is no framing field).
func framingKind(name string) int {
	switch len(name) {
	case len("Content-Length"):
		if strings.EqualFold(name, "Content-Length") {
			return fieldContentLength
		}
	case len("Transfer-Encoding"):
		if strings.EqualFold(name, "Transfer-Encoding") {
			return fieldTransferEncoding
		}
	case len("Host"):
		if strings.EqualFold(name, "Host") {
			return fieldHost
		}
	}
	return fieldOther
}

// tokenByte holds the tchar bytes (RFC 9110 5.6.2), badValueByte the
// bytes a field value may not hold (RFC 9110 5.5: controls but HTAB, and
// DEL) and CR, which a line may only hold before its LF.
var tokenByte, badValueByte [256]bool

func init() {
	for c := 0; c < 256; c++ {
		tokenByte[c] = c < 0x80 && httpguts.IsTokenRune(rune(c))
		badValueByte[c] = c < 0x20 && c != '\t' || c == 0x7f
	}
}

// framingFields collects the Content-Length and Transfer-Encoding values,
// kept or not.
type framingFields struct {
	cl, te []string
	hosts  int
}

// The fields that frame a message.
const (
	fieldOther = iota
	fieldContentLength
	fieldTransferEncoding
	fieldHost
)

// fieldLine parses one field line into h (RFC 9112 5): problems are
// reported, a line without a colon is dropped, an obs-fold is joined. It
// tells a framing field and its value, kept or not.
func (d *Decoder) fieldLine(m *Message, h *Header, line string, off int64) (kind int, value string) {
	if line[0] == ' ' || line[0] == '\t' {
		if len(*h) == 0 {
			// RFC 9112 2.2: "A sender MUST NOT send whitespace between
			// the start-line and the first header field."
			m.problem(KindWhitespaceAfterStartLine, off, false, "whitespace-started line before the first field: "+excerpt(line, 60))
			return fieldOther, ""
		}
		// RFC 9112 5.2: "A sender MUST NOT generate a message that
		// includes line folding (i.e., that has any field line value
		// that contains a match to the obs-fold rule)". A recipient may
		// replace each obs-fold with SP.
		m.problem(KindObsFold, off, false, "obsolete line folding: "+excerpt(line, 60))
		last := &(*h)[len(*h)-1]
		if v := trimOWS(line); v != "" {
			last.Value = last.Value + " " + v
		}
		return fieldOther, ""
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		m.problem(KindFieldNoColon, off, false, "field line without a colon: "+excerpt(line, 60))
		return fieldOther, ""
	}
	trimmed := name
	if t := trimOWS(name); len(t) != len(name) && strings.HasPrefix(name, t) {
		// RFC 9112 5.1: "No whitespace is allowed between the field name
		// and colon."
		m.problem(KindSpaceBeforeColon, off, false, "whitespace between field name "+excerpt(t, 40)+" and colon")
		trimmed = t
	}
	ascii := IsToken(trimmed)
	if !ascii {
		m.problem(KindFieldName, off, false, "field name "+excerpt(name, 40)+" is not a token")
	}
	value = trimOWS(value)
	for i := 0; i < len(value); i++ {
		// RFC 9110 5.5: field-value = *field-content; CR is reported as
		// a bare CR.
		if c := value[i]; c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			m.problem(KindFieldValue, off, false, "byte 0x"+strconv.FormatUint(uint64(c), 16)+" in the value of "+excerpt(name, 40))
			break
		}
	}
	if len(*h) < d.lim.MaxFields {
		*h = append(*h, Field{Name: name, Value: value, Line: line})
	} else if !m.Has(KindTooManyFields) {
		m.problem(KindTooManyFields, off, false, "more than "+strconv.Itoa(d.lim.MaxFields)+" field lines: the rest are not kept")
	}
	if !ascii || len(trimmed) != len(name) {
		// Some non-ASCII letters fold to ASCII ones.
		switch {
		case strings.EqualFold(name, "Content-Length"):
			return fieldContentLength, value
		case strings.EqualFold(name, "Transfer-Encoding"):
			return fieldTransferEncoding, value
		case strings.EqualFold(name, "Host"):
			return fieldHost, value
		}
		return fieldOther, value
	}
	return framingKind(name), value
}

// requestLine parses method SP request-target SP HTTP-version (RFC 9112 3)
// leniently: the parts are taken as well as they can be, and reported.
func (d *Decoder) requestLine(m *Message, line string, off int64) {
	bad := func(why string) {
		m.problem(KindRequestLine, off, false, "request-line "+excerpt(line, 80)+": "+why)
	}
	method, rest, ok := strings.Cut(line, " ")
	m.Method = method
	if !ok {
		bad("no SP after the method")
		return
	}
	if !IsToken(method) {
		bad("the method is not a token")
	}
	sp := strings.LastIndexByte(rest, ' ')
	if sp < 0 {
		m.Target = rest
		bad("no HTTP-version")
		return
	}
	m.Target, m.Version = rest[:sp], rest[sp+1:]
	// One pass over the target: an SP is told before a control byte.
	spIn, ctl := false, false
	for i := 0; i < len(m.Target); i++ {
		if c := m.Target[i]; c <= ' ' || c == 0x7f {
			spIn, ctl = spIn || c == ' ', ctl || c != ' '
		}
	}
	switch {
	case m.Target == "":
		bad("empty request-target")
	case spIn:
		bad("more than two SP")
	case ctl:
		bad("control byte in the request-target")
	}
	if !m.version(m.Version) || len(m.Version) != 8 {
		bad("the HTTP-version is not HTTP/DIGIT.DIGIT")
	}
}

// version reads "HTTP/" 1*DIGIT "." 1*DIGIT into Major and Minor.
func (m *Message) version(v string) bool {
	if len(v) == 8 && v[:5] == "HTTP/" && isDigit(v[5]) && v[6] == '.' && isDigit(v[7]) {
		m.Major, m.Minor = int(v[5]-'0'), int(v[7]-'0')
		return true
	}
	rest, ok := strings.CutPrefix(v, "HTTP/")
	if !ok {
		return false
	}
	maj, min, ok := strings.Cut(rest, ".")
	a, okA := digits(maj)
	b, okB := digits(min)
	if !ok || !okA || !okB {
		return false
	}
	m.Major, m.Minor = a, b
	return true
}

// digits parses 1 to 3 decimal digits.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// statusLine parses HTTP-version SP status-code SP [ reason-phrase ]
// (RFC 9112 4). A line whose version or code cannot be read loses the
// framing; other departures are reported.
func (d *Decoder) statusLine(m *Message, line string, off int64) {
	unreadable := func(why string) {
		if d.afterNoBody {
			m.problem(KindBodyAfterNoBody, off, false, "bytes "+excerpt(line, 40)+" follow a response that has no content")
		}
		d.lose(m, KindStatusLine, off, "status-line "+excerpt(line, 80)+": "+why)
	}
	if !strings.HasPrefix(line, "HTTP/") {
		unreadable("does not start with HTTP/")
		return
	}
	ver, rest, ok := strings.Cut(line, " ")
	m.Version = ver
	if !ok {
		unreadable("no SP after the HTTP-version")
		return
	}
	if !m.version(ver) {
		unreadable("the HTTP-version is not HTTP/<digits>.<digits>")
		return
	}
	if len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || len(rest) > 3 && rest[3] != ' ' {
		unreadable("no 3-digit status-code followed by SP")
		return
	}
	m.Status = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	syntax := func(why string) {
		m.problem(KindStatusLineSyntax, off, false, "status-line "+excerpt(line, 80)+": "+why)
	}
	if len(ver) != 8 {
		syntax("the HTTP-version is not HTTP/DIGIT.DIGIT")
	}
	if m.Status < 100 || m.Status > 599 {
		// RFC 9110 15: "Values outside the range 100..599 are invalid."
		syntax("status-code outside 100..599")
	}
	if len(rest) == 3 {
		syntax("no SP after the status-code")
		return
	}
	m.Reason = rest[4:]
	for i := 0; i < len(m.Reason); i++ {
		// reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); CR is
		// reported as a bare CR.
		if c := m.Reason[i]; c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			syntax("control byte in the reason-phrase")
			break
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// frame applies RFC 9112 6.1 to 6.3 to the head just parsed.
func (d *Decoder) frame(m *Message, f *framingFields, off int64) {
	if d.fatal != nil {
		m.Framing = FramingInvalid
		d.complete()
		return
	}
	wasAfterNoBody := d.afterNoBody
	d.afterNoBody = false
	if wasAfterNoBody && !d.request && !strings.HasPrefix(m.StartLine, "HTTP/") {
		m.problem(KindBodyAfterNoBody, off, false, "bytes follow a response that has no content")
	}
	if d.request && m.Major == 1 && m.Minor >= 1 && f.hosts == 0 {
		// RFC 9112 3.2: "A client MUST send a Host header field in all
		// HTTP/1.1 request messages."
		m.problem(KindHost, off, false, "HTTP/1.1 request without a Host header field")
	} else if d.request && f.hosts > 1 {
		m.problem(KindHost, off, false, "more than one Host field line")
	}
	cl, clOK := d.contentLength(m, f.cl, off)
	if clOK {
		m.ContentLength = cl
	}
	var codingsBuf [4]string
	codings := codingsBuf[:0]
	for _, v := range f.te {
		codings = AppendList(codings, v)
	}
	te := len(f.te) > 0
	chunked := len(codings) > 0 && strings.EqualFold(codings[len(codings)-1], "chunked")
	if te {
		if len(f.cl) > 0 {
			// RFC 9112 6.2: "A sender MUST NOT send a Content-Length
			// header field in any message that contains a
			// Transfer-Encoding header field."
			m.problem(KindCLWithTE, off, false, "both Transfer-Encoding and Content-Length")
		}
		if m.Major == 1 && m.Minor == 0 {
			// RFC 9112 6.1: a message with Transfer-Encoding in HTTP/1.0
			// must be treated as if the framing is faulty.
			m.problem(KindTEInHTTP10, off, false, "Transfer-Encoding in an HTTP/1.0 message")
		}
		for _, c := range codings[:max(len(codings)-1, 0)] {
			if strings.EqualFold(c, "chunked") {
				// RFC 9112 6.1: "A sender MUST NOT apply the chunked
				// transfer coding more than once to a message body".
				m.problem(KindChunkedTwice, off, false, "chunked applied more than once")
				break
			}
		}
	}
	if !d.request {
		d.frameResponse(m, f, te, chunked, cl, clOK, off)
		return
	}
	switch {
	case te && chunked:
		d.startChunked(m)
	case te:
		// RFC 9112 6.3: "If a Transfer-Encoding header field is present
		// in a request and the chunked transfer coding is not the final
		// encoding, the message body length cannot be determined
		// reliably".
		d.lose(m, KindRequestChunked, off, "request Transfer-Encoding "+excerpt(strings.Join(f.te, ", "), 60)+" does not end in chunked")
		m.Framing = FramingInvalid
		d.complete()
	case len(f.cl) > 0 && !clOK:
		m.Framing = FramingInvalid
		d.lose(m, KindInvalidCL, off, "invalid Content-Length "+excerpt(strings.Join(f.cl, ", "), 60))
		d.complete()
	case len(f.cl) > 0:
		d.startLength(m, cl)
	default:
		// RFC 9112 6.3: "If this is a request message and none of the
		// above are true, then the message body length is zero".
		m.Framing = FramingNone
		d.complete()
	}
}

func (d *Decoder) frameResponse(m *Message, f *framingFields, te, chunked bool, cl int64, clOK bool, off int64) {
	method := ""
	interim := m.Status >= 100 && m.Status < 200 && m.Status != 101
	if d.mhead < len(d.methods) {
		method = d.methods[d.mhead]
		if !interim {
			d.methods[d.mhead] = ""
			d.mhead++
		}
	}
	m.RequestMethod = method
	if (m.Status < 200 || m.Status == 204) && len(f.cl) > 0 {
		// RFC 9110 8.6: "A server MUST NOT send a Content-Length header
		// field in any response with a status code of 1xx
		// (Informational) or 204 (No Content)."
		m.problem(KindCL1xx204, off, false, strconv.Itoa(m.Status)+" response with Content-Length")
	}
	if (m.Status < 200 || m.Status == 204) && te {
		// RFC 9112 6.1: "A server MUST NOT send a Transfer-Encoding
		// header field in any response with a status code of 1xx
		// (Informational) or 204 (No Content)."
		m.problem(KindTE1xx204, off, false, strconv.Itoa(m.Status)+" response with Transfer-Encoding")
	}
	connect2xx := method == "CONNECT" && m.Status/100 == 2
	switch {
	case method == "HEAD" || m.Status < 200 || m.Status == 204 || m.Status == 304 || connect2xx:
		// RFC 9112 6.3 rules 1 and 2: no content whatever the fields say.
		m.Framing = FramingNone
		m.Tunnel = m.Status == 101 || connect2xx
		if (cl > 0 || chunked) && m.Status >= 200 && !m.Tunnel {
			d.afterNoBody = true
		}
		d.complete()
	case te && chunked:
		d.startChunked(m)
	case te:
		// RFC 9112 6.3: "If a Transfer-Encoding header field is present
		// in a response and the chunked transfer coding is not the final
		// encoding, the message body length is determined by reading the
		// connection until it is closed by the server."
		m.Framing = FramingClose
		d.state = stClose
	case len(f.cl) > 0 && !clOK:
		// RFC 9112 6.3: an invalid Content-Length is "an unrecoverable
		// error".
		m.Framing = FramingInvalid
		d.lose(m, KindInvalidCL, off, "invalid Content-Length "+excerpt(strings.Join(f.cl, ", "), 60))
		d.complete()
	case len(f.cl) > 0:
		d.startLength(m, cl)
	default:
		m.Framing = FramingClose
		d.state = stClose
	}
}

// contentLength reads the Content-Length values: one decimal value, or
// the same value repeated (RFC 9110 8.6, reported).
func (d *Decoder) contentLength(m *Message, vals []string, off int64) (int64, bool) {
	if len(vals) == 1 {
		// The common case: one field line of digits alone.
		if n, ok := parseLength(vals[0]); ok {
			return n, true
		}
	}
	n, count := int64(-1), 0
	for _, v := range vals {
		for {
			member, next, more := strings.Cut(v, ",")
			x, ok := parseLength(trimOWS(member))
			if !ok || n >= 0 && x != n {
				return -1, false
			}
			n = x
			count++
			if !more {
				break
			}
			v = next
		}
	}
	if count > 1 {
		m.problem(KindDuplicateCL, off, false, "Content-Length repeated: "+excerpt(strings.Join(vals, ", "), 60))
	}
	return n, count > 0
}

// parseLength parses 1*DIGIT of at most 18 digits (no overflow).
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

func (d *Decoder) startLength(m *Message, n int64) {
	m.Framing, m.ContentLength = FramingLength, n
	if n == 0 {
		d.complete()
		return
	}
	d.overLimit(n)
	if !d.lim.DiscardBody && !m.BodyTruncated {
		m.Body = make([]byte, 0, n)
	}
	d.remaining, d.state = n, stBody
}

func (d *Decoder) startChunked(m *Message) {
	m.Framing = FramingChunked
	d.state, d.trailer = stChunkSize, 0
}
