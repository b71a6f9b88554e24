package engine

import (
	"math/rand/v2"
	"testing"
)

// FuzzSessions feeds arbitrary bytes to every model's session as both what
// was sent and what came back, and to every model's mutator: nothing may
// panic, and Parse may never claim more bytes than it was given.
func FuzzSessions(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), uint64(1))
	f.Add([]byte("HEAD / HTTP/1.1\nHost: a\n\n"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), uint64(2))
	f.Add(dnsQuery(7, "www.test.", 1, true, false), dnsQuery(7, "www.test.", 1, false, false), uint64(3))
	f.Add(tcpFrame(dnsQuery(7, "a.", 1, false, false)), []byte{0, 2, 0, 7}, uint64(4))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		for _, name := range ModelNames() {
			m, _ := LookupModel(name)
			for _, svc := range m.Services() {
				s := m.NewSession(svc)
				n, _ := s.Sent(sent)
				if n < 0 {
					t.Fatalf("%s: Sent returned %d", name, n)
				}
				for _, closed := range []bool{false, true} {
					_, used, _ := s.Parse(got, closed)
					if used < 0 || used > len(got) {
						t.Fatalf("%s: Parse used %d of %d bytes", name, used, len(got))
					}
				}
				in := Input{Steps: []Step{{Service: svc, Data: append([]byte(nil), sent...)}}}
				r := rand.New(rand.NewPCG(seed, 1))
				for k := 0; k < 8; k++ {
					m.Mutate(r, &in, r.IntN(len(in.Steps)))
				}
				_ = m.Render(in.Steps[0], map[string]string{"id": "7", "sid": "x"})
			}
		}
	})
}

func TestHTTPResponseGrammar(t *testing.T) {
	for _, c := range []struct {
		resp string
		ok   bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
		{"HTTP/1.1 204 \r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true},
		{"HTTP/1.1 200\r\n\r\n", false},
		{"HTTP/1.1 2000 OK\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false}, // cut by the close
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false},
	} {
		s := &httpSession{}
		s.Sent([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
		resps, _, err := s.Parse([]byte(c.resp), true)
		if c.ok && (err != nil || len(resps) != 1) {
			t.Errorf("%q: %d answers, %v; want one, no error", c.resp, len(resps), err)
		}
		if !c.ok && err == nil {
			t.Errorf("%q: no grammar error", c.resp)
		}
	}
}

func TestHTTPRequestCount(t *testing.T) {
	for _, c := range []struct {
		sent string
		n    int
		sure bool
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, true},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 2, true},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab", 0, false},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", 1, true},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1, false},
		{"GET / HTTP/1.1\nHost: a\n\n", 1, false},
		{"GET / HTTP/1.1\r\n\r\n", 1, false}, // no Host
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, true},
	} {
		s := &httpSession{}
		n, sure := s.Sent([]byte(c.sent))
		if n != c.n || sure != c.sure {
			t.Errorf("%q: %d requests, sure %v; want %d, %v", c.sent, n, sure, c.n, c.sure)
		}
	}
}

func TestDNSJudge(t *testing.T) {
	s := &dnsSession{ids: map[uint16]int{}}
	q := dnsQuery(0x1234, "www.test.", 1, false, false)
	if n, sure := s.Sent(q); n != 1 || !sure {
		t.Fatalf("Sent: %d, %v", n, sure)
	}
	resp := append([]byte(nil), q...)
	resp[2] |= 0x80
	if _, _, err := s.Parse(resp, true); err != nil {
		t.Errorf("valid response: %v", err)
	}
	for name, b := range map[string][]byte{
		"QR clear":    q,
		"short":       resp[:7],
		"other ID":    append([]byte{0x43, 0x21}, resp[2:]...),
		"not unpacks": append(append([]byte(nil), resp[:12]...), 0xc0),
	} {
		s.Sent(q)
		if _, _, err := s.Parse(b, true); err == nil {
			t.Errorf("%s: no grammar error", name)
		}
	}
}

func TestRenderTemplate(t *testing.T) {
	got := string(renderTemplate([]byte("Cookie: sid={{sid}}; x={{nope}} {{ not a var }}"), map[string]string{"sid": "abc"}))
	if want := "Cookie: sid=abc; x= {{ not a var }}"; got != want {
		t.Errorf("renderTemplate = %q, want %q", got, want)
	}
}
