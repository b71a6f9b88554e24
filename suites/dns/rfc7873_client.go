package dns

import (
	"bytes"
	"encoding/hex"
	"sync"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc7873_5_1 = spec.Section("dns", "rfc7873", "5.1", "Originating Requests")
	rfc7873_5_3 = spec.Section("dns", "rfc7873", "5.3", "Processing Responses")
)

// DNS cookies as a client (RFC 7873, RFC 9018), judged at the fake
// authority: it records the COOKIE option of every query a resolver sends
// for the spec's names and answers with a server cookie of its own.

// cookieFormat is RFC 7873 4's sentence on the option's two lengths.
const cookieFormat = `RFC 7873 4: "In a request sent by a client when a Server Cookie is known, and in all responses to such a request, the length is variable -- from 16 to 40 bytes, consisting of an 8-byte Client Cookie followed by the variable-length (8 bytes to 32 bytes) Server Cookie".`

// cookieSpy answers the names it is set on normally, with a server cookie
// appended, and keeps the COOKIE option of each UDP query (nil: none).
type cookieSpy struct {
	mu   sync.Mutex
	seen [][]byte
	// server is the server cookie it returns; badFirst makes it answer
	// the first query that has a cookie with BADCOOKIE and server.
	server   []byte
	badFirst bool
}

func (s *cookieSpy) rule(e *fakeExchange) bool {
	var got []byte
	if o := e.q.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if c, ok := opt.(*mdns.EDNS0_COOKIE); ok {
				b, err := hex.DecodeString(c.Cookie)
				if err != nil || b == nil {
					b = []byte{}
				}
				got = b
			}
		}
	}
	s.mu.Lock()
	s.seen = append(s.seen, got)
	bad := s.badFirst && got != nil
	if bad {
		s.badFirst = false
	}
	s.mu.Unlock()
	m := e.answer()
	if m == nil {
		return false
	}
	if got != nil && len(got) >= 8 {
		if bad {
			m.Answer, m.Ns, m.Extra = nil, nil, nil
			m.Authoritative = false
			m.Rcode = mdns.RcodeBadCookie // needs the OPT below for its upper bits
			m.SetEdns0(1232, false)
		}
		if opt := m.IsEdns0(); opt != nil {
			opt.Option = append(opt.Option, &mdns.EDNS0_COOKIE{Code: mdns.EDNS0COOKIE, Cookie: hex.EncodeToString(append(append([]byte(nil), got[:8]...), s.server...))})
		}
	}
	e.send(m)
	return true
}

func (s *cookieSpy) cookies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.seen...)
}

// cookieRun resolves www and www2 of a fresh scenario (both on fake server
// 0) through a cookieSpy and returns what the spy saw; it fails the spec
// unless both resolved.
func cookieRun(t *spec.T, badFirst bool) [][]byte {
	sc := newScenario(t)
	sc.add("www 300 IN A "+realAddr, "www2 300 IN A "+realAddr2)
	spy := &cookieSpy{server: []byte("fakesrv-cookie01"), badFirst: badFirst}
	sc.rule(sc.name("www"), spy.rule)
	sc.rule(sc.name("www2"), spy.rule)
	for _, n := range []struct{ label, addr string }{{"www", realAddr}, {"www2", realAddr2}} {
		m := sc.resolve(sc.name(n.label), mdns.TypeA)
		if !containsAddr(answerAddrs(m, sc.name(n.label)), n.addr) {
			t.Mismatch(sc.name(n.label)+" A "+n.addr, "%s", summary(m))
		}
	}
	seen := spy.cookies()
	if len(seen) == 0 {
		t.Failf("the fake authority saw no query for the spec's names")
	}
	return seen
}

func containsAddr(addrs []string, a string) bool {
	for _, x := range addrs {
		if x == a {
			return true
		}
	}
	return false
}

// requireClientCookies skips a spec when the resolver sent no cookies.
func requireClientCookies(t *spec.T, seen [][]byte) {
	for _, c := range seen {
		if c != nil {
			return
		}
	}
	t.Skipf("not applicable: the resolver sends no COOKIE option to authorities")
}

var _ = Describe("RFC 7873 DNS cookies, as a resolver's client", func() {
	rfc7873_5_1.It("client-cookie-sent", spec.MAY, "sends an 8-byte client cookie in its first query to an authority", spec.Inferred(cookieFormat+` A first query, when no server cookie is known, carries the client cookie alone (8 bytes).`, "DNS cookies are optional for a client: MAY").SharedBecause("the client cookie half of the format"), func(t *spec.T) {
		requireIterative(t)
		seen := cookieRun(t, false)
		if seen[0] == nil {
			t.Mismatch("a COOKIE option (client cookies supported)", "none in the first query")
		}
		if len(seen[0]) != 8 {
			t.Mismatch("an 8-byte client cookie in the first query", "%d bytes: %x", len(seen[0]), seen[0])
		}
	})

	rfc7873_5_1.It("client-cookie-stable", spec.SHOULD, "sends the same client cookie to the same server", spec.Inferred(cookieFormat+` The server cookie a server returns is bound to the client cookie it came with, so a client that changed its cookie for every query could never present a valid server cookie.`, "RFC 7873 5.1 and RFC 9018 bind the client cookie to client and server addresses; a client that sends cookies at all: SHOULD").SharedBecause("the client cookie across queries"), func(t *spec.T) {
		requireIterative(t)
		seen := cookieRun(t, false)
		requireClientCookies(t, seen)
		var first []byte
		for _, c := range seen {
			if len(c) < 8 {
				t.Mismatch("a client cookie in every query once one was sent", "%x", c)
			}
			if first == nil {
				first = c[:8]
			} else if !bytes.Equal(first, c[:8]) {
				t.Mismatch("the client cookie "+hex.EncodeToString(first)+" again", "%x", c[:8])
			}
		}
	})

	rfc7873_5_3.It("server-cookie-echoed", spec.SHOULD, "returns the server cookie it was given in its next query to that server", spec.Inferred(cookieFormat, "a client that sends cookies stores the server cookie and sends it back (RFC 7873 5.3): SHOULD").SharedBecause("the server cookie half of the format"), func(t *spec.T) {
		requireIterative(t)
		seen := cookieRun(t, false)
		requireClientCookies(t, seen)
		if len(seen) < 2 {
			t.Skipf("not applicable: one query only reached the authority")
		}
		want := append(append([]byte(nil), seen[0][:min(8, len(seen[0]))]...), "fakesrv-cookie01"...)
		if !bytes.Equal(seen[1], want) {
			t.Mismatch("the second query's COOKIE option "+hex.EncodeToString(want)+" (client cookie and the server cookie returned)", "%x", seen[1])
		}
	})

	rfc7873_5_3.It("badcookie-retried", spec.SHOULD, "retries a query answered BADCOOKIE with the fresh server cookie, and resolves", spec.Inferred(cookieFormat+` A BADCOOKIE response carries a fresh server cookie; the client retries with it.`, "RFC 7873 5.3 has the client retry after BADCOOKIE; a client that sends cookies: SHOULD").SharedBecause("the BADCOOKIE case"), func(t *spec.T) {
		requireIterative(t)
		seen := cookieRun(t, true)
		requireClientCookies(t, seen)
		if len(seen) < 2 || len(seen[1]) < 16 || !bytes.Equal(seen[1][8:], []byte("fakesrv-cookie01")) {
			t.Mismatch("a retry carrying the server cookie of the BADCOOKIE", "queries' cookies: %x", seen)
		}
	})
})
