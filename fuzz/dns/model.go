package dnsfuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/dns"
)

func init() { engine.Register(contract.Name, func() engine.Model { return dnsModel{} }) }

// dnsModel fuzzes DNS servers (RFC 1035, 6891, 7766): UDP queries, and TCP
// sessions of length-prefixed messages where a later query reuses the ID
// of an earlier answer. Seeds ask for names of protospec's test. zone.
type dnsModel struct{}

const (
	dnsUDP = "dns/udp"
	dnsTCP = "dns/tcp"
)

func (dnsModel) Name() string                  { return contract.Name }
func (dnsModel) Services() []string            { return []string{dnsUDP, dnsTCP} }
func (dnsModel) CompareDetail() bool           { return true }
func (dnsModel) SeedStep(b []byte) engine.Step { return engine.Step{Service: dnsUDP, Data: b} }

// dnsQuery packs a query; edns adds an OPT record.
func dnsQuery(id uint16, name string, qtype uint16, edns bool, do bool) []byte {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	m.RecursionDesired = false
	if edns {
		m.SetEdns0(1232, do)
	}
	b, err := m.Pack()
	if err != nil {
		return nil
	}
	return b
}

func tcpFrame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

func (dnsModel) Seeds() []engine.Input {
	u := func(id uint16, name string, t uint16, edns bool) engine.Step {
		return engine.Step{Service: dnsUDP, Data: dnsQuery(id, name, t, edns, false)}
	}
	tc := func(conn int, id uint16, name string, t uint16, edns bool) engine.Step {
		return engine.Step{Service: dnsTCP, Conn: conn, Data: tcpFrame(dnsQuery(id, name, t, edns, false))}
	}
	reuse := tc(0, 0x4444, "mail.test.", mdns.TypeA, false)
	reuse.Use = "id"
	return []engine.Input{
		{Steps: []engine.Step{u(0x1001, "www.test.", mdns.TypeA, false)}},
		{Steps: []engine.Step{u(0x1002, "test.", mdns.TypeSOA, true)}},
		{Steps: []engine.Step{u(0x1003, "test.", mdns.TypeMX, false), u(0x1004, "alias.test.", mdns.TypeA, false)}},
		{Steps: []engine.Step{u(0x1005, "big.test.", mdns.TypeTXT, false)}},
		{Steps: []engine.Step{u(0x1006, "nonexistent.test.", mdns.TypeA, true)}},
		{Steps: []engine.Step{u(0x1007, "host.sub.test.", mdns.TypeA, false)}},
		{Steps: []engine.Step{u(0x1008, "1.0.0.127.in-addr.arpa.", mdns.TypePTR, false)}},
		{Steps: []engine.Step{u(0x1009, "anything.wild.test.", mdns.TypeAAAA, true)}},
		{Steps: []engine.Step{tc(0, 0x2001, "www.test.", mdns.TypeA, false)}},
		{Steps: []engine.Step{tc(0, 0x2002, "big.test.", mdns.TypeTXT, true), reuse}},
		{Steps: []engine.Step{{Service: dnsTCP, Data: append(tcpFrame(dnsQuery(0x2003, "test.", mdns.TypeNS, false, false)),
			tcpFrame(dnsQuery(0x2004, "_sip._tcp.test.", mdns.TypeSRV, true, true))...)}}},
	}
}

func (dnsModel) Probe() engine.Input {
	return engine.Input{Steps: []engine.Step{{Service: dnsUDP, Data: dnsQuery(0x5050, "test.", mdns.TypeSOA, false, false)}}}
}

func (dnsModel) NewSession(service string) engine.Session {
	return &dnsSession{tcp: service == dnsTCP, ids: map[uint16]int{}}
}

// Render writes the ID of the last answer into a step that reuses it.
func (dnsModel) Render(st engine.Step, vars map[string]string) []byte {
	if st.Use != "id" {
		return st.Data
	}
	id, err := strconv.ParseUint(vars["id"], 10, 16)
	off := 0
	if st.Service == dnsTCP {
		off = 2
	}
	if err != nil || len(st.Data) < off+2 {
		return st.Data
	}
	b := append([]byte(nil), st.Data...)
	binary.BigEndian.PutUint16(b[off:], uint16(id))
	return b
}

var dnsMutations = []string{"flags", "opcode", "rcode", "counts", "name", "qtype", "qclass", "edns",
	"truncate", "duplicate-question", "trailing", "length-prefix", "pipeline", "id"}

var (
	dnsTypes = []uint16{mdns.TypeA, mdns.TypeNS, mdns.TypeCNAME, mdns.TypeSOA, mdns.TypePTR, mdns.TypeMX, mdns.TypeTXT,
		mdns.TypeAAAA, mdns.TypeSRV, mdns.TypeOPT, mdns.TypeAXFR, mdns.TypeIXFR, mdns.TypeANY, 0, 65535, mdns.TypeDS,
		mdns.TypeDNSKEY, mdns.TypeRRSIG, mdns.TypeNSEC, mdns.TypeTSIG, mdns.TypeMAILB, 62, 128, 255, 4096}
	dnsClasses = []uint16{mdns.ClassINET, mdns.ClassCHAOS, mdns.ClassHESIOD, mdns.ClassNONE, mdns.ClassANY, 0, 2, 65535}
	dnsCounts  = []uint16{0, 1, 2, 3, 255, 256, 0x7fff, 0xffff}
)

// nameEnd returns the offset just past the name starting at off, or -1.
func nameEnd(b []byte, off int) int {
	for n := 0; off < len(b) && n < 128; n++ {
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return -1
			}
			return off + 2
		case l&0xc0 != 0:
			return -1
		}
		off += 1 + l
	}
	return -1
}

func (dnsModel) Mutate(r *rand.Rand, in *engine.Input, i int) string {
	st := &in.Steps[i]
	tcp := st.Service == dnsTCP
	msg := st.Data
	if tcp {
		if len(msg) < 2 {
			return ""
		}
		msg = msg[2:]
	}
	msg = append([]byte(nil), msg...)
	name := dnsMutations[r.IntN(len(dnsMutations))]
	fixLen := true
	if len(msg) < 12 && name != "trailing" && name != "length-prefix" {
		return ""
	}
	qEnd := -1
	if len(msg) >= 12 {
		qEnd = nameEnd(msg, 12)
	}
	switch name {
	case "flags":
		bit := r.IntN(16)
		msg[2+bit/8] ^= 1 << (bit % 8)
	case "opcode":
		msg[2] = msg[2]&^0x78 | byte(r.IntN(16))<<3
	case "rcode":
		msg[3] = msg[3]&^0x0f | byte(r.IntN(16))
	case "counts":
		k := 4 + 2*r.IntN(4)
		binary.BigEndian.PutUint16(msg[k:], dnsCounts[r.IntN(len(dnsCounts))])
	case "name":
		if qEnd < 0 {
			return ""
		}
		msg = mutateName(r, msg, qEnd)
	case "qtype", "qclass":
		if qEnd < 0 || qEnd+4 > len(msg) {
			return ""
		}
		if name == "qtype" {
			binary.BigEndian.PutUint16(msg[qEnd:], dnsTypes[r.IntN(len(dnsTypes))])
		} else {
			binary.BigEndian.PutUint16(msg[qEnd+2:], dnsClasses[r.IntN(len(dnsClasses))])
		}
	case "edns":
		msg = mutateEDNS(r, msg)
	case "truncate":
		msg = msg[:r.IntN(len(msg))]
	case "duplicate-question":
		if qEnd < 0 || qEnd+4 > len(msg) {
			return ""
		}
		q := append([]byte(nil), msg[12:qEnd+4]...)
		if r.IntN(2) == 0 {
			// The copy's name as a pointer to the first.
			q = append([]byte{0xc0, 12}, msg[qEnd:qEnd+4]...)
		}
		msg = append(msg[:qEnd+4:qEnd+4], append(q, msg[qEnd+4:]...)...)
		binary.BigEndian.PutUint16(msg[4:], binary.BigEndian.Uint16(msg[4:])+1)
	case "trailing":
		msg = append(msg, make([]byte, 1+r.IntN(600))...)
		if r.IntN(2) == 0 {
			for k := len(msg) - 1; k >= 0 && k > len(msg)-64; k-- {
				msg[k] = byte(r.IntN(256))
			}
		}
	case "id":
		binary.BigEndian.PutUint16(msg, uint16(r.IntN(65536)))
	case "length-prefix":
		if !tcp {
			return ""
		}
		fixLen = false
		st.Data = append(binary.BigEndian.AppendUint16(nil, []uint16{0, 1, 11, 12, uint16(len(msg) + 1), uint16(len(msg) - 1), 0xffff}[r.IntN(7)]), msg...)
		return name
	case "pipeline":
		if !tcp {
			return ""
		}
		other := dnsQuery(uint16(r.IntN(65536)), "www.test.", dnsTypes[r.IntN(8)], r.IntN(2) == 0, false)
		st.Data = append(tcpFrame(msg), tcpFrame(other)...)
		return name
	}
	if len(msg) > 65535 {
		msg = msg[:65535]
	}
	if tcp && fixLen {
		st.Data = tcpFrame(msg)
	} else {
		st.Data = msg
	}
	return name
}

// mutateName changes the question name that ends at qEnd.
func mutateName(r *rand.Rand, msg []byte, qEnd int) []byte {
	rest := append([]byte(nil), msg[qEnd:]...)
	head := append([]byte(nil), msg[:12]...)
	name := append([]byte(nil), msg[12:qEnd]...)
	switch r.IntN(9) {
	case 0: // a length byte changed
		if len(name) > 0 {
			name[0] = []byte{0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff, 0x01, 0x00}[r.IntN(8)]
		}
	case 1: // a pointer to itself
		name = []byte{0xc0, 12}
	case 2: // a pointer past the end
		name = []byte{0xff, 0xff}
	case 3: // a pointer forward into the question type
		name = append([]byte{3, 'w', 'w', 'w'}, 0xc0, byte(12+6))
	case 4: // longer than 255 octets
		name = nil
		for k := 0; k < 5; k++ {
			name = append(name, 63)
			name = append(name, strings.Repeat("a", 63)...)
		}
		name = append(name, 0)
	case 5: // a label with odd bytes
		name = append([]byte{4, 0, '.', '\\', 0xff}, name...)
	case 6: // the root
		name = []byte{0}
	case 7: // an extended label type (RFC 6891 6.1.3 reserves 0x40)
		name = append([]byte{0x41, 0x10}, name...)
	case 8: // case flipped
		for k := range name {
			if c := name[k]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				name[k] ^= 0x20
			}
		}
	}
	return append(append(head, name...), rest...)
}

// mutateEDNS appends an OPT pseudo-record (RFC 6891) with odd fields and
// options, written by hand so lengths can lie.
func mutateEDNS(r *rand.Rand, msg []byte) []byte {
	opt := []byte{0}
	if r.IntN(8) == 0 {
		opt = []byte{3, 'c', 'o', 'm', 0} // an OPT not owned by the root
	}
	opt = binary.BigEndian.AppendUint16(opt, mdns.TypeOPT)
	opt = binary.BigEndian.AppendUint16(opt, []uint16{0, 1, 511, 512, 1232, 4096, 65535}[r.IntN(7)])
	opt = append(opt, []byte{0, 1, 0xff}[r.IntN(3)])      // extended rcode
	opt = append(opt, []byte{0, 0, 0, 1, 255}[r.IntN(5)]) // version
	opt = binary.BigEndian.AppendUint16(opt, []uint16{0, 0x8000, 0x7fff, 0xffff}[r.IntN(4)])
	var rdata []byte
	for k := r.IntN(3); k > 0; k-- {
		code := []uint16{3, 8, 10, 11, 12, 15, 65001, 0}[r.IntN(8)]
		var val []byte
		switch code {
		case 10: // cookie: 8 bytes client, optionally a server part; or a bad length
			val = make([]byte, []int{8, 7, 16, 40, 41, 0}[r.IntN(6)])
		case 8: // client subnet with an odd family
			val = []byte{0, byte(r.IntN(4)), 24, 0, 127, 0, 0}
		case 12: // padding
			val = make([]byte, []int{0, 100, 400}[r.IntN(3)])
		default:
			val = make([]byte, r.IntN(8))
		}
		for j := range val {
			val[j] = byte(r.IntN(256))
		}
		l := uint16(len(val))
		if r.IntN(6) == 0 {
			l += uint16(1 + r.IntN(4)) // a length that lies
		}
		rdata = binary.BigEndian.AppendUint16(rdata, code)
		rdata = binary.BigEndian.AppendUint16(rdata, l)
		rdata = append(rdata, val...)
	}
	rdlen := uint16(len(rdata))
	if r.IntN(8) == 0 {
		rdlen += 3
	}
	opt = binary.BigEndian.AppendUint16(opt, rdlen)
	opt = append(opt, rdata...)
	out := append(append([]byte(nil), msg...), opt...)
	binary.BigEndian.PutUint16(out[10:], binary.BigEndian.Uint16(out[10:])+1)
	return out
}

// dnsSession matches answers to queries by ID and checks that each is a
// well-formed response.
type dnsSession struct {
	tcp     bool
	pending []byte         // TCP bytes not yet a whole message
	ids     map[uint16]int // IDs of queries not yet answered
	unknown int            // queries too short to have an ID
}

// Sent counts the queries a server should answer: every message with a
// header and QR clear (a malformed one gets FORMERR, or nothing: unsure).
func (s *dnsSession) Sent(data []byte) (int, bool) {
	var msgs [][]byte
	if s.tcp {
		s.pending = append(s.pending, data...)
		for len(s.pending) >= 2 {
			l := int(binary.BigEndian.Uint16(s.pending))
			if len(s.pending)-2 < l {
				break
			}
			msgs = append(msgs, s.pending[2:2+l])
			s.pending = s.pending[2+l:]
		}
	} else {
		msgs = [][]byte{data}
	}
	n, sure := 0, true
	for _, m := range msgs {
		if len(m) < 2 {
			s.unknown++
			sure = false
			continue
		}
		id := binary.BigEndian.Uint16(m)
		s.ids[id]++
		if len(m) < 12 || m[2]&0x80 != 0 {
			sure = false
			continue
		}
		var q mdns.Msg
		if err := q.Unpack(m); err != nil || len(q.Question) != 1 || q.Opcode != mdns.OpcodeQuery ||
			len(q.Answer) > 0 || len(q.Ns) > 0 || q.Zero || q.Rcode != 0 || len(m) > 512 && q.IsEdns0() == nil {
			sure = false
		}
		if q.IsEdns0() != nil && q.IsEdns0().Version() != 0 {
			sure = false
		}
		// Only a message in its plain, canonical form is sure to be
		// answered: a server may drop one with trailing bytes, odd
		// pointers or counts that lie (miekg/dns unpacks those leniently).
		q.Compress = false
		if re, err := q.Pack(); err != nil || !bytes.Equal(re, m) {
			sure = false
		}
		if len(q.Extra) > 1 || len(q.Extra) == 1 && q.IsEdns0() == nil {
			sure = false // additional records other than one OPT
		}
		if len(q.Question) == 1 {
			qq := q.Question[0]
			switch qq.Qtype {
			case 0, mdns.TypeOPT, mdns.TypeAXFR, mdns.TypeIXFR, mdns.TypeTSIG, mdns.TypeTKEY, mdns.TypeMAILA, mdns.TypeMAILB:
				sure = false
			}
			if qq.Qclass != mdns.ClassINET {
				sure = false
			}
		}
		n++
	}
	return n, sure && n > 0
}

// Parse judges answers: a UDP datagram or TCP frames, each a message that
// unpacks, has QR set and carries the ID of a query sent.
func (s *dnsSession) Parse(buf []byte, closed bool) ([]engine.Response, int, error) {
	var out []engine.Response
	used := 0
	for used < len(buf) {
		var m []byte
		if s.tcp {
			if len(buf)-used < 2 {
				break
			}
			l := int(binary.BigEndian.Uint16(buf[used:]))
			if len(buf)-used-2 < l {
				break
			}
			m = buf[used+2 : used+2+l]
			used += 2 + l
		} else {
			m = buf
			used = len(buf)
		}
		resp, err := s.judge(m)
		if err != nil {
			return out, used, err
		}
		out = append(out, resp)
	}
	if closed && s.tcp && used < len(buf) {
		return out, used, fmt.Errorf("TCP stream closed inside a message: %d bytes of a frame", len(buf)-used)
	}
	return out, used, nil
}

func (s *dnsSession) judge(m []byte) (engine.Response, error) {
	if len(m) < 12 {
		return engine.Response{}, fmt.Errorf("answer of %d bytes is shorter than a DNS header: %q", len(m), engine.Excerpt(m, 40))
	}
	var msg mdns.Msg
	if err := msg.Unpack(m); err != nil {
		return engine.Response{}, fmt.Errorf("answer does not unpack: %v (%d bytes: %q)", err, len(m), engine.Excerpt(m, 80))
	}
	if !msg.Response {
		return engine.Response{}, fmt.Errorf("answer with QR clear (id %d, rcode %s)", msg.Id, mdns.RcodeToString[msg.Rcode])
	}
	if s.ids[msg.Id] > 0 {
		s.ids[msg.Id]--
	} else if s.unknown > 0 {
		s.unknown--
	} else {
		return engine.Response{}, fmt.Errorf("answer ID %d matches no query sent", msg.Id)
	}
	rcode := mdns.RcodeToString[msg.Rcode]
	if rcode == "" {
		rcode = strconv.Itoa(msg.Rcode)
	}
	class := rcode
	if msg.Truncated {
		class += "+TC"
	}
	var ans []string
	for _, rr := range msg.Answer {
		h := rr.Header()
		txt := rr.String()
		// Compare data, not TTLs: caches count them down.
		if f := strings.SplitN(txt, "\t", 5); len(f) == 5 {
			txt = strings.ToLower(h.Name) + " " + f[3] + " " + f[4]
		}
		ans = append(ans, txt)
	}
	sort.Strings(ans)
	return engine.Response{Class: class, Detail: class + " [" + strings.Join(ans, "; ") + "]",
		Vars: map[string]string{"id": strconv.Itoa(int(msg.Id))}}, nil
}
