package http1

import (
	"bytes"
	"strconv"
	"sync/atomic"

	contract "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets/mutant"
)

// HTTP/1's mutants: the reference behind a proxy that breaks one rule in
// its responses, each killed by the specs it names
// (targets/mutant/README.md). The reference answers with Content-Length
// framing only, so the mutations bend that framing and the heads.
func init() {
	mutant.Register(contract.Name,
		mutant.Mutant{
			Name:  "drop-content-length",
			Doc:   "removes the Content-Length field from every response head",
			Kills: []string{"http1/rfc9112/6.3/content-length-framing", "http1/rfc9112/6.3/content-length-zero", "http1/rfc9112/6.3/content-length-large"},
			// Every response then runs to a close that never comes: the
			// whole suite would wait out each step's deadline.
			Filter: "rfc9112:6.3",
			Stream: heads(func(h []byte) []byte { return dropField(h, "content-length") }),
		},
		mutant.Mutant{
			Name: "short-content-length",
			Doc:  "declares one byte less than the body in every Content-Length, so the last byte spills into the next response",
			Kills: []string{
				"http1/rfc9112/6.3/content-length-framing", "http1/rfc9112/6.3/content-length-large", "http1/rfc9112/9.3.2/pipelined-in-order",
			},
			Stream: heads(func(h []byte) []byte {
				return editField(h, "content-length", func(v string) string {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil || n <= 0 {
						return v
					}
					return strconv.FormatInt(n-1, 10)
				})
			}),
		},
		mutant.Mutant{
			Name:   "status-200-to-404",
			Doc:    "turns every 200 (OK) status line into 404 (Not Found)",
			Kills:  []string{"http1/rfc9110/15.3.1/ok", "http1/rfc9112/9.3.2/pipelined-in-order"},
			Stream: heads(func(h []byte) []byte { return setStatus(h, "200", "404 Not Found") }),
		},
		mutant.Mutant{
			Name: "status-2xx-to-500",
			Doc:  "turns every 2xx status line into 500 (Internal Server Error)",
			Kills: []string{
				"http1/rfc9110/15.3.1/ok", "http1/rfc9110/9.3.4/put-then-get",
			},
			Stream: heads(func(h []byte) []byte {
				for _, c := range []string{"200", "201", "204", "206"} {
					h = setStatus(h, c, "500 Internal Server Error")
				}
				return h
			}),
		},
		mutant.Mutant{
			Name:  "http10-status-line",
			Doc:   "downgrades the version of every status line from HTTP/1.1 to HTTP/1.0",
			Kills: []string{"http1/rfc9110/2.5/version-for-1.1", "http1/rfc9112/9.3/persistent-by-default"},
			// A client waits for an HTTP/1.0 server to close.
			Filter: "rfc9110:2.5 || rfc9112:9.3",
			Stream: heads(func(h []byte) []byte { return replacePrefix(h, "HTTP/1.1 ", "HTTP/1.0 ") }),
		},
		mutant.Mutant{
			Name:   "drop-date",
			Doc:    "removes the Date field from every response head",
			Kills:  []string{"http1/rfc9110/6.6.1/date-in-200", "http1/rfc9110/15.4.5/304-has-date"},
			Stream: heads(func(h []byte) []byte { return dropField(h, "date") }),
		},
		mutant.Mutant{
			Name:   "drop-etag",
			Doc:    "removes the ETag field from every response head",
			Kills:  []string{"http1/rfc9110/8.8.3/etag-sent"},
			Stream: heads(func(h []byte) []byte { return dropField(h, "etag") }),
		},
		mutant.Mutant{
			Name:  "close-after-first",
			Doc:   "closes every connection after its first response, without Connection: close",
			Kills: []string{"http1/rfc9112/9.3/persistent-by-default", "http1/rfc9112/9.3/ten-requests"},
			Stream: func(string) (mutant.Stream, mutant.Stream) {
				return &responses{rewrite: func(i int, h []byte) ([]byte, bool) { return h, i == 0 }}, nil
			},
		},
		mutant.Mutant{
			Name:  "body-on-bodiless",
			Doc:   "adds 5 bytes of body after the head of every 204 and 304 response and of the response to a HEAD that opens a connection",
			Kills: []string{"http1/rfc9112/6.3/204-no-content", "http1/rfc9112/6.3/304-no-content", "http1/rfc9112/6.3/head-no-content-hello.txt"},
			Stream: func(string) (mutant.Stream, mutant.Stream) {
				var head atomic.Bool
				toServer := firstRequest(func(req []byte) { head.Store(bytes.HasPrefix(req, []byte("HEAD "))) })
				toClient := &responses{rewrite: func(i int, h []byte) ([]byte, bool) {
					if code := headStatus(h); code == 204 || code == 304 || (i == 0 && head.Load()) {
						h = append(h, "XXXXX"...)
					}
					return h, false
				}}
				return toClient, toServer
			},
		},
		mutant.Mutant{
			Name:  "reorder-pipelined",
			Doc:   "when a connection opens with pipelined requests, sends its second response before its first",
			Kills: []string{"http1/rfc9112/9.3.2/pipelined-in-order", "http1/rfc9112/9.3.2/pipelined-ten"},
			Stream: func(string) (mutant.Stream, mutant.Stream) {
				var pipelined atomic.Bool
				toServer := firstRequest(func(req []byte) {
					pipelined.Store(bytes.Count(req, []byte(" HTTP/1.1\r\n")) >= 2)
				})
				return &swapFirstTwo{pipelined: &pipelined}, toServer
			},
		},
		mutant.Mutant{
			Name: "drop-obfuscated-te",
			Doc:  "removes from the first request head of each connection every Transfer-Encoding line that is not exactly \"chunked\", as a front end that does not recognise an obfuscated Transfer-Encoding forwards it: the reference then frames by Content-Length and answers the request hidden in the chunk",
			Kills: []string{
				"http1/rfc9112/6.1/te-cl-desync-trailing-space", "http1/rfc9112/6.1/te-cl-desync-leading-comma", "http1/rfc9112/6.1/te-obfuscated-decodes-trailing-space",
			},
			Filter: "rfc9112:6.1",
			Stream: func(string) (mutant.Stream, mutant.Stream) {
				return nil, &firstHead{rewrite: func(h []byte) []byte {
					return dropLines(h, func(l []byte) bool {
						return headFieldName(l) == "transfer-encoding" && string(l[len("transfer-encoding:"):]) != " chunked"
					})
				}}
			},
		},
		mutant.Mutant{
			Name:   "chunked-twice-as-once",
			Doc:    "rewrites \"Transfer-Encoding: chunked, chunked\" in the first request head of each connection to a single chunked, so the reference accepts content announced as chunked twice as chunked once",
			Kills:  []string{"http1/rfc9112/6.1/chunked-twice-rejected-list"},
			Filter: "rfc9112:6.1",
			Stream: func(string) (mutant.Stream, mutant.Stream) {
				return nil, &firstHead{rewrite: func(h []byte) []byte {
					return bytes.ReplaceAll(h, []byte("\r\nTransfer-Encoding: chunked, chunked\r\n"), []byte("\r\nTransfer-Encoding: chunked\r\n"))
				}}
			},
		},
	)
}

// firstHead applies rewrite to the first request head of a connection
// (up to its empty line) and passes everything after it unchanged.
type firstHead struct {
	rewrite func(head []byte) []byte
	buf     []byte
	done    bool
}

func (f *firstHead) Next(p []byte, eof bool) ([]byte, bool) {
	if f.done {
		return p, false
	}
	f.buf = append(f.buf, p...)
	end := bytes.Index(f.buf, crlf2)
	if end < 0 && len(f.buf) <= headLimit && !eof {
		return nil, false
	}
	f.done = true
	out := f.buf
	f.buf = nil
	if end >= 0 {
		out = append(f.rewrite(append([]byte(nil), out[:end+4]...)), out[end+4:]...)
	}
	return out, false
}

// dropLines removes the field lines of a head for which drop is true.
func dropLines(head []byte, drop func(line []byte) bool) []byte {
	var kept [][]byte
	for i, l := range headLines(head) {
		if i == 0 || !drop(l) {
			kept = append(kept, l)
		}
	}
	return bytes.Join(kept, []byte("\r\n"))
}

// heads applies rewrite to the head of every response of a connection.
func heads(rewrite func(head []byte) []byte) func(string) (mutant.Stream, mutant.Stream) {
	return func(string) (mutant.Stream, mutant.Stream) {
		return &responses{rewrite: func(_ int, h []byte) ([]byte, bool) { return rewrite(h), false }}, nil
	}
}

// firstRequest calls seen with the first bytes the client sends on a
// connection (its first read), and passes everything unchanged.
func firstRequest(seen func(first []byte)) mutant.Stream {
	done := false
	return mutant.StreamFunc(func(p []byte, _ bool) ([]byte, bool) {
		if !done && len(p) > 0 {
			done = true
			seen(p)
		}
		return p, false
	})
}

// headLimit is the most a response head may take before the mutation
// gives up and passes the connection unchanged.
const headLimit = 64 << 10

var crlf2 = []byte("\r\n\r\n")

// responses is the simplest framing of the reference's responses that can
// never hold a byte the client waits for: it holds back a head until its
// empty line, rewrites it, then passes the body through as it comes,
// counting down its Content-Length (no body for 1xx, 204 and 304; the rest
// of the connection when there is no Content-Length). After a response to
// HEAD, whose Content-Length announces a body that never comes, it is out
// of step: it takes the next responses for body and leaves them unchanged.
type responses struct {
	// rewrite returns the new head of response i and whether to close the
	// connection once its body has been sent.
	rewrite func(i int, head []byte) ([]byte, bool)
	buf     []byte
	body    int64 // body bytes of the current response still to pass
	n       int
	closing bool
	passing bool
}

func (r *responses) Next(p []byte, eof bool) ([]byte, bool) {
	if r.passing {
		return p, false
	}
	r.buf = append(r.buf, p...)
	var out []byte
	for len(r.buf) > 0 {
		if r.body > 0 {
			k := min(r.body, int64(len(r.buf)))
			out = append(out, r.buf[:k]...)
			r.buf, r.body = r.buf[k:], r.body-k
			continue
		}
		if r.closing {
			break
		}
		end := bytes.Index(r.buf, crlf2)
		if end < 0 {
			if len(r.buf) > headLimit {
				r.passing = true
			}
			break
		}
		head := r.buf[:end+4]
		body, framed := bodyLength(head)
		h, closeAfter := r.rewrite(r.n, append([]byte(nil), head...))
		r.n++
		out = append(out, h...)
		r.buf, r.body, r.closing = r.buf[end+4:], body, closeAfter
		if !framed {
			r.passing = true
			break
		}
	}
	if r.closing && r.body == 0 {
		return out, true
	}
	if r.passing || eof {
		out = append(out, r.buf...)
		r.buf = nil
	}
	r.buf = append([]byte(nil), r.buf...)
	return out, false
}

// swapFirstTwo holds the first response of a pipelined connection until
// the second is complete and sends them the other way round; on any other
// connection it changes nothing.
type swapFirstTwo struct {
	pipelined *atomic.Bool
	buf       []byte
	passing   bool
}

func (s *swapFirstTwo) Next(p []byte, eof bool) ([]byte, bool) {
	if s.passing || !s.pipelined.Load() {
		s.passing = true
		out := append(s.buf, p...)
		s.buf = nil
		return out, false
	}
	s.buf = append(s.buf, p...)
	first := wholeResponse(s.buf)
	second := 0
	if first > 0 {
		second = wholeResponse(s.buf[first:])
	}
	if second > 0 || eof || len(s.buf) > mutant.DefaultFrameLimit {
		s.passing = true
		out := s.buf
		if second > 0 {
			out = append(append(append([]byte(nil), s.buf[first:first+second]...), s.buf[:first]...), s.buf[first+second:]...)
		}
		s.buf = nil
		return out, false
	}
	return nil, false
}

// wholeResponse returns the length of the complete response at the start
// of b, 0 while it is incomplete or cannot be framed by Content-Length.
func wholeResponse(b []byte) int {
	end := bytes.Index(b, crlf2)
	if end < 0 {
		return 0
	}
	body, framed := bodyLength(b[:end+4])
	if !framed || int64(len(b)-end-4) < body {
		return 0
	}
	return end + 4 + int(body)
}

// bodyLength is the body length a response head announces; framed is
// false when the body runs to the end of the connection (no
// Content-Length, or one that is not a number, or Transfer-Encoding).
func bodyLength(head []byte) (n int64, framed bool) {
	if code := headStatus(head); code/100 == 1 || code == 204 || code == 304 {
		return 0, true
	}
	if _, ok := headField(head, "transfer-encoding"); ok {
		return 0, false
	}
	v, ok := headField(head, "content-length")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// headStatus is the status code of a response head, 0 if it has none.
func headStatus(head []byte) int {
	if len(head) < 12 || !bytes.HasPrefix(head, []byte("HTTP/")) {
		return 0
	}
	code, err := strconv.Atoi(string(head[9:12]))
	if err != nil {
		return 0
	}
	return code
}

// headLines splits a head into its lines without their CRLF (the last two are
// empty).
func headLines(head []byte) [][]byte { return bytes.Split(head, []byte("\r\n")) }

// headFieldName returns the lower-cased name of a field line, "" if it is none.
func headFieldName(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	return string(bytes.ToLower(line[:i]))
}

// headField returns the value of the first field named name (lower case).
func headField(head []byte, name string) (string, bool) {
	for _, l := range headLines(head)[1:] {
		if headFieldName(l) == name {
			return string(bytes.TrimSpace(l[len(name)+1:])), true
		}
	}
	return "", false
}

// dropField removes every field line named name (lower case).
func dropField(head []byte, name string) []byte {
	var kept [][]byte
	for i, l := range headLines(head) {
		if i == 0 || headFieldName(l) != name {
			kept = append(kept, l)
		}
	}
	return bytes.Join(kept, []byte("\r\n"))
}

// editField replaces the value of every field named name (lower case).
func editField(head []byte, name string, edit func(string) string) []byte {
	ls := headLines(head)
	for i, l := range ls {
		if i > 0 && headFieldName(l) == name {
			ls[i] = append(append([]byte(nil), l[:len(name)+1]...), " "+edit(string(bytes.TrimSpace(l[len(name)+1:])))...)
		}
	}
	return bytes.Join(ls, []byte("\r\n"))
}

// setStatus replaces the status code and reason of a head whose code is
// code.
func setStatus(head []byte, code, codeAndReason string) []byte {
	if len(head) < 12 || string(head[9:12]) != code {
		return head
	}
	eol := bytes.Index(head, []byte("\r\n"))
	return append(append(append([]byte(nil), head[:9]...), codeAndReason...), head[eol:]...)
}

// replacePrefix replaces the start of a head.
func replacePrefix(head []byte, from, to string) []byte {
	if !bytes.HasPrefix(head, []byte(from)) {
		return head
	}
	return append([]byte(to), head[len(from):]...)
}
