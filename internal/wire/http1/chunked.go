package http1

// chunkSizeLine handles chunk-size [ chunk-ext ] CRLF (RFC 9112 7.1); a
// last-chunk moves to the trailer section.
func (d *Decoder) chunkSizeLine(line []byte) {
	m := d.cur
	off := m.Len
	m.Len += int64(len(line))
	text := line[:len(line)-1]
	if len(text) > 0 && text[len(text)-1] == '\r' {
		text = text[:len(text)-1]
	} else {
		m.problem(KindChunkLineEnd, off, false, "chunk-size line ended by a bare LF")
	}
	size, rest, ok := ParseChunkSize(text)
	if !ok {
		d.lose(m, KindChunkSize, off, "bad chunk-size line "+excerpt(string(text), 40))
		m.Framing, m.Incomplete = FramingInvalid, true
		d.complete()
		return
	}
	if k := CheckChunkExt(rest); k != 0 {
		m.problem(k, off, false, "chunk-size line "+excerpt(string(text), 60)+": "+k.String())
	}
	if size == 0 {
		d.state = stTrailer
		return
	}
	d.overLimit(m.BodyLen + size)
	if m.Body == nil && !m.BodyTruncated && !d.lim.DiscardBody {
		m.Body = make([]byte, 0, size)
	}
	d.remaining, d.state = size, stChunkData
}

// ParseChunkSize parses chunk-size = 1*HEXDIG at the start of line and
// returns what follows. It fails without a digit and past 15 significant
// digits ("Recipients MUST anticipate potentially large hexadecimal
// numerals and prevent parsing errors due to integer conversion
// overflows", RFC 9112 7.1).
func ParseChunkSize(line []byte) (size int64, rest []byte, ok bool) {
	i, sig := 0, 0
	for ; i < len(line); i++ {
		c := line[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return size, line[i:], i > 0
		}
		if size != 0 || v != 0 {
			sig++
		}
		if sig > 15 {
			return 0, nil, false
		}
		size = size<<4 | int64(v)
	}
	return size, nil, i > 0
}

// CheckChunkExt checks what follows a chunk-size:
// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// with chunk-ext-val = token / quoted-string (RFC 9112 7.1.1). It returns
// 0, KindChunkSizeJunk (bytes that start no extension) or KindChunkExt.
func CheckChunkExt(b []byte) Kind {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	tok := func() bool {
		s := i
		for i < len(b) && tchar[b[i]] {
			i++
		}
		return i > s
	}
	for n := 0; ; n++ {
		ws()
		if i == len(b) {
			return 0
		}
		if b[i] != ';' {
			if n == 0 {
				return KindChunkSizeJunk
			}
			return KindChunkExt
		}
		i++
		ws()
		if !tok() {
			return KindChunkExt
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
					return KindChunkExt
				}
				c := b[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i >= len(b) {
						return KindChunkExt
					}
				} else if c < 0x20 && c != '\t' || c == 0x7f {
					return KindChunkExt
				}
				i++
			}
		} else if !tok() {
			return KindChunkExt
		}
	}
}

// tchar marks the bytes of a token (RFC 9110 5.6.2).
var tchar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = IsToken(string(rune(c))) && c < 0x80
	}
	return t
}()

// trailerLine handles one line of the trailer section (RFC 9112 7.1.2).
func (d *Decoder) trailerLine(line []byte) {
	m := d.cur
	off := m.Len
	m.Len += int64(len(line))
	d.trailer += len(line)
	text := line[:len(line)-1]
	crlf := len(text) > 0 && text[len(text)-1] == '\r'
	if crlf {
		text = text[:len(text)-1]
	}
	if len(text) == 0 {
		if !crlf {
			m.problem(KindTrailerEnd, off, false, "trailer section ended by a bare LF")
		}
		d.complete()
		return
	}
	if !crlf && !m.Has(KindBareLF) {
		m.problem(KindBareLF, off, false, "trailer line ended by a bare LF")
	}
	s := string(text)
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' {
			m.problem(KindBareCR, off, false, "bare CR in trailer line "+excerpt(s, 60))
			break
		}
	}
	d.fieldLine(m, &m.Trailer, s, off)
}
