package http1

import (
	"reflect"
	"testing"
)

// FuzzDecoder checks, for either direction: no panic; feeding byte by
// byte, or cut where the input says, gives the same messages as feeding
// at once; the messages' lengths and the skipped bytes add up to the
// bytes fed; the bounds hold.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"), uint8(0), uint8(7))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\"\r\nhello\r\n0\r\nT: 1\r\n\r\n"), uint8(0), uint8(3))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), uint8(1), uint8(5))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.0 204 x\r\n\r\n"), uint8(3), uint8(2))
	f.Add([]byte("HTTP/1.0 200 OK\nX: a\n b\n\nclose-delimited"), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, mode, cut uint8) {
		request := mode&1 == 0
		lim := Limits{MaxHead: 512, MaxStartLine: 128, MaxBody: 64, MaxFields: 8, MaxChunkLine: 32}
		methods := []string{"GET", "HEAD", "CONNECT", "POST"}
		run := func(split func([]byte) [][]byte) (*Decoder, []*Message) {
			d := NewResponseDecoder(lim)
			if request {
				d = NewRequestDecoder(lim)
			}
			for i := 0; i < 4; i++ {
				d.Expect(methods[(int(mode>>1)+i)%4])
			}
			var out []*Message
			for _, p := range split(in) {
				d.Feed(p)
				for m, ok := d.Next(); ok; m, ok = d.Next() {
					out = append(out, m)
				}
				_ = d.Want()
			}
			d.Close()
			for m, ok := d.Next(); ok; m, ok = d.Next() {
				out = append(out, m)
			}
			return d, out
		}
		d, whole := run(func(b []byte) [][]byte { return [][]byte{b} })
		_, bytewise := run(func(b []byte) [][]byte {
			var out [][]byte
			for i := range b {
				out = append(out, b[i:i+1])
			}
			return out
		})
		_, cuts := run(func(b []byte) [][]byte {
			var out [][]byte
			for step := int(cut%16) + 1; len(b) > step; b = b[step:] {
				out = append(out, b[:step])
			}
			return append(out, b)
		})
		if !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("byte by byte:\n%s\nat once:\n%s", dump(bytewise), dump(whole))
		}
		if !reflect.DeepEqual(whole, cuts) {
			t.Fatalf("cut every %d:\n%s\nat once:\n%s", cut%16+1, dump(cuts), dump(whole))
		}
		used := d.Skipped()
		for _, m := range whole {
			used += m.Len
			if int64(len(m.Body)) > lim.MaxBody || len(m.Header) > lim.MaxFields || len(m.Problems) > maxProblems+1 || int64(len(m.Body)) > m.BodyLen {
				t.Fatalf("bounds: body %d of %d, %d fields, %d problems", len(m.Body), m.BodyLen, len(m.Header), len(m.Problems))
			}
		}
		if used != int64(len(in)) || d.Fed() != int64(len(in)) {
			t.Fatalf("messages and skipped bytes add up to %d of %d", used, len(in))
		}
		for i := 1; i < len(whole); i++ {
			if prev := whole[i-1]; whole[i].Offset < prev.Offset+prev.Len {
				t.Fatalf("message %d at %d overlaps the one at %d of %d bytes", i, whole[i].Offset, prev.Offset, prev.Len)
			}
		}
		// A gap in the middle, then a resumption: the accounting holds.
		g := NewResponseDecoder(lim)
		if request {
			g = NewRequestDecoder(lim)
		}
		k := int(cut) % (len(in) + 1)
		g.Feed(in[:k])
		g.Lost(int64(mode))
		g.Resume()
		g.Feed(in[k:])
		g.Abort()
		used = g.Skipped()
		for m, ok := g.Next(); ok; m, ok = g.Next() {
			used += m.Len
		}
		if used != g.Fed() || g.Fed() != int64(len(in))+int64(mode) {
			t.Fatalf("with a gap of %d at %d: messages and skipped bytes add up to %d of %d", mode, k, used, g.Fed())
		}
	})
}

func dump(ms []*Message) string {
	s := ""
	for _, m := range ms {
		s += m.String() + " framing " + m.Framing.String() + " body " + string(m.Body) + " len "
		for _, p := range m.Problems {
			s += " [" + p.Kind.String() + " " + p.Detail + "]"
		}
		s += "\n"
	}
	return s
}
