package dns

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	idns "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/reports"
)

func init() {
	pcap.Register(pcap.Protocol{
		Name:       idns.Name,
		Title:      "DNS messages over UDP and TCP, responses matched to queries",
		Ports:      pcap.ContractPorts(idns.Contract),
		SniffOrder: 10,
		Sniff:      sniff,
		// mDNS (RFC 6762), LLMNR (RFC 4795) and NetBIOS name service
		// (RFC 1002) look like DNS and follow other rules.
		NotPorts: []uint16{5353, 5355, 137},
		New:      func(e *pcap.Emitter, udp bool) pcap.Dissector { return newDissector(e, udp) },
		Rules:    Rules,
		Replay: &pcap.Replayer{
			Params:     []protocol.Param{{Name: paramTTLDrift, Doc: "how far a replayed TTL may differ from the recorded one", Default: "60s"}},
			IgnoreKeys: []string{ignoreTTL, ignoreAuthority, ignoreAdditional, ignoreFlags},
			Answers: func(q *pcap.Message, got []byte) bool {
				return len(got) >= 2 && len(q.Raw) >= 2 && bytes.Equal(got[:2], q.Raw[:2])
			},
			Compare: compare,
		},
		CorpusInput: corpusInput,
	})
}

// sniff recognises a DNS header: a datagram, or over TCP a message behind
// its length.
func sniff(side pcap.Side, udp bool, b, _ []byte) bool {
	if udp {
		return looksLikeDNS(b)
	}
	return len(b) >= 2 && int(binary.BigEndian.Uint16(b)) == len(b)-2 && looksLikeDNS(b[2:])
}

// looksLikeDNS reports whether b has a plausible DNS header: one question
// (or none, for some responses), few records, a known opcode.
func looksLikeDNS(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	qd, an, ns, ar := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:]), binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	opcode := (b[2] >> 3) & 0xf
	if qd > 1 || opcode > 6 || int(an)+int(ns)+int(ar) > 200 {
		return false
	}
	return qd == 1 || b[2]&0x80 != 0
}

// corpusInput is the message without the TCP length prefix, as the fuzz
// targets take it.
func corpusInput(m *pcap.Message) []byte {
	b := m.Raw
	if i := InfoOf(m); i != nil && !i.UDP && len(b) >= 2 && int(binary.BigEndian.Uint16(b)) == len(b)-2 {
		b = b[2:]
	}
	return b
}

// Rules of the DNS checks.
const (
	ruleParses   = "dns/rfc1035/4.1.1/counts-consistent"
	ruleQR       = "dns/rfc1035/4.1.1/qr-bit"
	ruleID       = "dns/rfc1035/4.1.1/response-id-matches-query"
	ruleOpcode   = "dns/rfc1035/4.1.1/opcode-copied"
	ruleQuestion = "dns/rfc1035/7.3/question-echoed"
	ruleUDPSize  = "dns/rfc1035/4.2.1/udp-512-without-edns"
	ruleTCP      = "dns/rfc1035/4.2.2/tcp-message-complete"
)

func isDNS(m *pcap.Message) bool { return InfoOf(m) != nil }
func isResponse(m *pcap.Message) bool {
	i := InfoOf(m)
	return i != nil && m.Side == pcap.Server && i.Msg != nil && i.Msg.Response
}

// peerInfo is the DNS info of the query a response answers, nil if none.
func peerInfo(m *pcap.Message) *Info {
	if m.Peer == nil {
		return nil
	}
	return InfoOf(m.Peer)
}

// Rules are the offline checks of DNS (pcap check).
var Rules = []pcap.Rule{
	{ID: ruleParses, Level: reports.LevelMust, Title: "a DNS message holds the records its header counts", Applies: isDNS, Check: func(m *pcap.Message) string {
		if i := InfoOf(m); i.Err != "" && !m.Incomplete {
			return "does not parse: " + i.Err
		}
		return ""
	}},
	{ID: ruleQR, Level: reports.LevelMust, Title: "queries have QR=0 and responses QR=1", Applies: func(m *pcap.Message) bool { return isDNS(m) && len(m.Raw) >= 4 }, Check: func(m *pcap.Message) string {
		i := InfoOf(m)
		if m.Side == pcap.Client && i.Response {
			return "a message from the client has QR=1"
		}
		if m.Side == pcap.Server && !i.Response {
			return "a message from the server has QR=0"
		}
		return ""
	}},
	{ID: ruleID, Level: reports.LevelMust, Title: "a response carries the ID of a query it answers", Applies: isResponse, Check: func(m *pcap.Message) string {
		if m.Peer == nil {
			return fmt.Sprintf("response ID %d matches no query of the flow", InfoOf(m).ID)
		}
		return ""
	}},
	{ID: ruleOpcode, Level: reports.LevelMust, Title: "a response copies the query's OPCODE", Applies: func(m *pcap.Message) bool { return isResponse(m) && peerInfo(m) != nil }, Check: func(m *pcap.Message) string {
		if r, q := InfoOf(m), peerInfo(m); r.Opcode != q.Opcode {
			return fmt.Sprintf("query OPCODE %s, response OPCODE %s", q.Opcode, r.Opcode)
		}
		return ""
	}},
	{ID: ruleQuestion, Level: reports.LevelMust, Title: "a response echoes the query's question", Applies: func(m *pcap.Message) bool {
		return isResponse(m) && peerInfo(m) != nil && peerInfo(m).Question != ""
	}, Check: func(m *pcap.Message) string {
		q, r := peerInfo(m).Question, InfoOf(m).Question
		if r == "" && InfoOf(m).Msg.Rcode != dns.RcodeSuccess {
			return "" // FORMERR, NOTIMP...: the question may be left out
		}
		if !strings.EqualFold(q, r) {
			return fmt.Sprintf("query asked %q, response answers %q", q, r)
		}
		return ""
	}},
	{ID: ruleUDPSize, Level: reports.LevelMust, Title: "a UDP response is at most 512 bytes unless the query had EDNS", Applies: func(m *pcap.Message) bool {
		return isResponse(m) && InfoOf(m).UDP && peerInfo(m) != nil && peerInfo(m).Msg != nil
	}, Check: func(m *pcap.Message) string {
		if m.Len > 512 && peerInfo(m).Msg.IsEdns0() == nil {
			return fmt.Sprintf("%d-byte UDP response to a query without EDNS", m.Len)
		}
		return ""
	}},
	{ID: ruleTCP, Level: reports.LevelMust, Title: "a DNS message over TCP is whole behind its length", Applies: func(m *pcap.Message) bool { return isDNS(m) && !InfoOf(m).UDP }, Check: func(m *pcap.Message) string {
		if m.Incomplete && !m.Truncated {
			return fmt.Sprintf("the connection ended %d bytes into a message", m.Len)
		}
		return ""
	}},
}

// Replay params and the parts it may leave out.
const (
	paramTTLDrift    = "ttl-drift"
	ignoreTTL        = "dns.ttl"
	ignoreAuthority  = "dns.authority"
	ignoreAdditional = "dns.additional"
	ignoreFlags      = "dns.flags"
)

// comparer compares replayed answers with recorded ones: rcode, flags,
// question, and the sections as sets (their order carries no meaning,
// RFC 2181 5), TTLs within a drift.
type comparer struct {
	p     *pcap.ReplayParams
	drift time.Duration
}

func compare(p *pcap.ReplayParams) (func(q, want *pcap.Message, got []byte) string, error) {
	drift, err := time.ParseDuration(p.Get(paramTTLDrift))
	if err != nil || drift < 0 {
		return nil, fmt.Errorf("%s %q is not a duration", paramTTLDrift, p.Get(paramTTLDrift))
	}
	if drift == 0 {
		drift = 60 * time.Second
	}
	c := &comparer{p: p, drift: drift}
	return func(_, want *pcap.Message, got []byte) string { return c.diff(want.Raw, got) }, nil
}

func unpack(raw []byte) (*dns.Msg, error) {
	m := new(dns.Msg)
	// Over TCP the wire bytes start with the length.
	if len(raw) >= 2 && int(binary.BigEndian.Uint16(raw)) == len(raw)-2 {
		if err := m.Unpack(raw[2:]); err == nil {
			return m, nil
		}
	}
	return m, m.Unpack(raw)
}

func (c *comparer) diff(wantRaw, gotRaw []byte) string {
	want, err1 := unpack(wantRaw)
	got, err2 := unpack(gotRaw)
	switch {
	case err1 != nil && err2 != nil:
		return ""
	case err1 != nil:
		return fmt.Sprintf("recorded a malformed message (%v), replayed %s", err1, got.MsgHdr.String())
	case err2 != nil:
		return fmt.Sprintf("replayed answer does not parse: %v", err2)
	}
	if want.Rcode != got.Rcode {
		return fmt.Sprintf("rcode: recorded %s / replayed %s", dns.RcodeToString[want.Rcode], dns.RcodeToString[got.Rcode])
	}
	if !c.p.Ignores(ignoreFlags) {
		flags := func(m *dns.Msg) string {
			return fmt.Sprintf("qr=%v opcode=%s aa=%v tc=%v rd=%v ra=%v", m.Response, dns.OpcodeToString[m.Opcode], m.Authoritative, m.Truncated, m.RecursionDesired, m.RecursionAvailable)
		}
		if a, b := flags(want), flags(got); a != b {
			return fmt.Sprintf("flags: recorded %s / replayed %s", a, b)
		}
	}
	qs := func(m *dns.Msg) string {
		var s []string
		for _, q := range m.Question {
			s = append(s, strings.ToLower(q.String()))
		}
		return strings.Join(s, "; ")
	}
	if a, b := qs(want), qs(got); a != b {
		return fmt.Sprintf("question: recorded %s / replayed %s", a, b)
	}
	sections := []struct {
		name string
		a, b []dns.RR
		key  string
	}{{"answer", want.Answer, got.Answer, ""}, {"authority", want.Ns, got.Ns, ignoreAuthority}, {"additional", want.Extra, got.Extra, ignoreAdditional}}
	for _, s := range sections {
		if s.key != "" && c.p.Ignores(s.key) {
			continue
		}
		if d := c.diffRRs(s.a, s.b); d != "" {
			return s.name + " section: " + d
		}
	}
	return ""
}

// diffRRs compares two sections as sets, leaving out OPT and allowing
// TTLs to differ by the drift.
func (c *comparer) diffRRs(a, b []dns.RR) string {
	type rr struct {
		key string
		ttl uint32
	}
	conv := func(rrs []dns.RR) []rr {
		var out []rr
		for _, x := range rrs {
			if x.Header().Rrtype == dns.TypeOPT {
				continue
			}
			c := dns.Copy(x)
			ttl := c.Header().Ttl
			c.Header().Ttl = 0
			out = append(out, rr{strings.ToLower(strings.ReplaceAll(c.String(), "\t", " ")), ttl})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
		return out
	}
	x, y := conv(a), conv(b)
	for i := 0; i < len(x) || i < len(y); i++ {
		switch {
		case i >= len(x):
			return fmt.Sprintf("replayed an extra record %s", y[i].key)
		case i >= len(y):
			return fmt.Sprintf("recorded %s / not replayed", x[i].key)
		case x[i].key != y[i].key:
			return fmt.Sprintf("recorded %s / replayed %s", x[i].key, y[i].key)
		}
		if c.p.Ignores(ignoreTTL) {
			continue
		}
		d := int64(x[i].ttl) - int64(y[i].ttl)
		if d < 0 {
			d = -d
		}
		if time.Duration(d)*time.Second > c.drift {
			return fmt.Sprintf("%s: TTL recorded %d / replayed %d (drift over %v)", x[i].key, x[i].ttl, y[i].ttl, c.drift)
		}
	}
	return ""
}
