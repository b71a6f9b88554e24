package dns

import (
	"log"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// logged wraps h so that each query it handles leaves one line in l:
// client, transport, qname, qtype and the rcode answered ("dropped" when
// nothing was sent). With l nil it returns h itself, so that a quiet
// server pays nothing.
func logged(l *log.Logger, h handleFunc) handleFunc {
	if l == nil {
		return h
	}
	return func(query []byte, client netip.AddrPort, tcp bool) [][]byte {
		out := h(query, client, tcp)
		logQuery(l, query, client, tcp, out)
		return out
	}
}

// loggedFast is logged for a UDP fast path: a query it leaves to the slow
// path is logged there.
func loggedFast(l *log.Logger, f func([]byte, netip.AddrPort) ([][]byte, bool)) func([]byte, netip.AddrPort) ([][]byte, bool) {
	if l == nil || f == nil {
		return f
	}
	return func(query []byte, client netip.AddrPort) ([][]byte, bool) {
		out, ok := f(query, client)
		if ok {
			logQuery(l, query, client, false, out)
		}
		return out, ok
	}
}

// logQuery writes the access-log line of one query and its answers.
func logQuery(l *log.Logger, query []byte, client netip.AddrPort, tcp bool, out [][]byte) {
	transport := "udp"
	if tcp {
		transport = "tcp"
	}
	qname, qtype := "-", "-"
	var m mdns.Msg
	if m.Unpack(query) == nil && len(m.Question) > 0 {
		qname, qtype = m.Question[0].Name, mdns.TypeToString[m.Question[0].Qtype]
		if qtype == "" {
			qtype = mdns.Type(m.Question[0].Qtype).String()
		}
	}
	rcode := "dropped"
	if len(out) > 0 && len(out[0]) >= 4 {
		rcode = mdns.RcodeToString[int(out[0][3]&0x0f)]
	}
	if len(out) > 1 {
		l.Printf("%v %s %q %s %s (%d messages)", client, transport, qname, qtype, rcode, len(out))
		return
	}
	l.Printf("%v %s %q %s %s", client, transport, qname, qtype, rcode)
}
