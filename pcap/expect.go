package pcap

import (
	"fmt"
	"net/netip"
	"time"
)

// Expected connections: a protocol whose control connection opens other
// connections beside it (FTP's data connections, announced by PORT, EPRT
// or a 227/229 reply) tells the engine which endpoint will be connected
// to; the next TCP flow to that endpoint is given to the announcing
// protocol's dissector without port mapping or sniffing, carrying the
// link the dissector left (what opened it). The engine knows nothing of
// what the link is; when the flow ends, a link that is a fmt.Stringer is
// written to Flow.OpenedBy.

// maxExpected bounds the expectations pending in one analysis.
const maxExpected = 4096

// expectTTL is how long (capture time) an expectation waits for its flow.
const expectTTL = 2 * time.Minute

type expectation struct {
	proto string
	link  any
	at    time.Time
}

// Expect announces that a TCP connection to listen (the endpoint that
// accepts it) belongs to protocol proto, with link for its dissector
// (Emitter.Link). The first flow to listen within two minutes of capture
// time takes it; announcing the same link under several endpoints lets
// whichever is used first take it, and drops the others. Outside Analyze
// (a replay's emitter) it does nothing.
func (e *Emitter) Expect(listen netip.AddrPort, proto string, link any, t time.Time) {
	if e.expect != nil && listen.IsValid() && listen.Port() != 0 {
		e.expect(netip.AddrPortFrom(listen.Addr().Unmap(), listen.Port()), expectation{proto: proto, link: link, at: t})
	}
}

// Link returns the link of the expectation that gave this flow to the
// dissector (nil when the flow was not expected).
func (e *Emitter) Link() any {
	if e.flow == nil {
		return nil
	}
	return e.flow.link
}

// expect records an expectation, making room by dropping stale ones.
func (a *analyzer) expect(listen netip.AddrPort, x expectation) {
	if a.expects == nil {
		a.expects = map[netip.AddrPort]expectation{}
	}
	if len(a.expects) >= maxExpected {
		for k, v := range a.expects {
			if x.at.Sub(v.at) > expectTTL {
				delete(a.expects, k)
			}
		}
		if len(a.expects) >= maxExpected {
			return
		}
	}
	a.expects[listen] = x
}

// expected gives a new TCP flow to the protocol that announced it, if
// one did: the flow's server endpoint is the one announced (or, for a
// capture that began mid-stream, its client endpoint, and the sides are
// turned round).
func (a *analyzer) expected(f *Flow) {
	if len(a.expects) == 0 || f.udp {
		return
	}
	x, ok := a.takeExpected(f.Server, f.First)
	if !ok && !f.sawSYN {
		if x, ok = a.takeExpected(f.Client, f.First); ok {
			f.Client, f.Server = f.Server, f.Client
		}
	}
	if !ok {
		return
	}
	f.Proto, f.link, f.decided = x.proto, x.link, false
}

func (a *analyzer) takeExpected(ep netip.AddrPort, t time.Time) (expectation, bool) {
	ep = netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())
	x, ok := a.expects[ep]
	if !ok {
		return x, false
	}
	delete(a.expects, ep)
	if t.Sub(x.at) > expectTTL {
		return x, false
	}
	if x.link != nil {
		for k, v := range a.expects {
			if v.link == x.link {
				delete(a.expects, k)
			}
		}
	}
	return x, true
}

// openedBy fills Flow.OpenedBy from the flow's link.
func (f *Flow) openedBy() {
	if s, ok := f.link.(fmt.Stringer); ok && f.OpenedBy == "" {
		f.OpenedBy = s.String()
	}
}
