// Package dns is the pcap dissector of DNS: one message per UDP datagram
// or behind its two-byte length over TCP, responses matched to queries by
// ID and question, with the offline rules of RFC 1035 and the replay
// comparison of answers. Importing it registers it with the pcap engine:
//
//	import _ "github.com/protospec/protospec/pcap/dns"
package dns

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/pcap"
)

// Info is what the DNS dissector read from a message (Message.Info).
type Info struct {
	ID       uint16 `json:"id"`
	Response bool   `json:"qr"`
	Opcode   string `json:"opcode"`
	Rcode    string `json:"rcode,omitempty"`
	// Question is "name TYPE CLASS" of the first question.
	Question string `json:"question,omitempty"`
	// Counts are the header's QD, AN, NS and AR counts.
	Counts [4]uint16 `json:"counts"`
	// Answers are the answer records in presentation format.
	Answers []string `json:"answers,omitempty"`
	// UDP is set for a message carried by UDP.
	UDP bool `json:"udp,omitempty"`
	// Err is set when the message does not parse.
	Err string `json:"error,omitempty"`
	// Msg is the parsed message (nil when it does not parse).
	Msg *dns.Msg `json:"-"`
}

// InfoOf returns the DNS info of a message, nil for another protocol's.
func InfoOf(m *pcap.Message) *Info {
	i, _ := m.Info.(*Info)
	return i
}

// dissector frames DNS messages: one per UDP datagram, or each behind
// its two-byte length over TCP (RFC 1035 4.2.2), and matches responses to
// queries by ID and question.
type dissector struct {
	e     *pcap.Emitter
	udp   bool
	buf   [2][]byte
	start [2]time.Time
	// lostAt is set after bytes were lost where the next message boundary
	// is unknown: framing resumes at a segment that starts with a length
	// and a plausible DNS header. skip is how many bytes remain of a
	// message cut by a hole, when its length was read before the hole.
	lostAt [2]bool
	skip   [2]int
	cut    [2]bool // UDP: the next datagram was cut by the snap length
	// queries waiting for a response, oldest first
	waiting []*pcap.Message
}

func newDissector(e *pcap.Emitter, udp bool) *dissector {
	return &dissector{e: e, udp: udp}
}

func (d *dissector) Data(side pcap.Side, t time.Time, b []byte) {
	if d.udp {
		d.message(side, t, b, nil, false)
		return
	}
	if n := d.skip[side]; n > 0 {
		n = min(n, len(b))
		d.skip[side] -= n
		b = b[n:]
		if len(b) == 0 {
			return
		}
	}
	if d.lostAt[side] {
		// Resynchronise on a segment that begins a message.
		if len(b) < 14 || int(binary.BigEndian.Uint16(b)) < 12 || !looksLikeDNS(b[2:]) {
			return
		}
		d.lostAt[side] = false
	}
	if len(d.buf[side]) == 0 {
		d.start[side] = t
	}
	d.buf[side] = append(d.buf[side], b...)
	for {
		buf := d.buf[side]
		if len(buf) < 2 {
			return
		}
		n := int(binary.BigEndian.Uint16(buf))
		if len(buf) < 2+n {
			return
		}
		d.message(side, d.start[side], buf[2:2+n], buf[:2+n], false)
		d.buf[side] = buf[2+n:]
		d.start[side] = t
		if len(d.buf[side]) == 0 {
			d.buf[side] = nil
		}
	}
}

func (d *dissector) Lost(side pcap.Side, n int) {
	if d.udp {
		d.cut[side] = true
		return
	}
	buf := d.buf[side]
	switch {
	case d.lostAt[side]:
	case d.skip[side] > 0:
		// Inside a message already cut: the hole takes more of it.
		if n <= d.skip[side] {
			d.skip[side] -= n
		} else {
			d.skip[side], d.lostAt[side] = 0, true
		}
	case len(buf) >= 2:
		// The length is known: the hole ends on a boundary, or inside
		// this message (the rest is skipped), or beyond it (unknown).
		rest := 2 + int(binary.BigEndian.Uint16(buf)) - len(buf)
		if n <= rest {
			d.skip[side] = rest - n
		} else {
			d.lostAt[side] = true
		}
	default:
		d.lostAt[side] = true
	}
	if len(buf) > 0 {
		d.message(side, d.start[side], buf[min(2, len(buf)):], buf, true)
	}
	d.buf[side] = nil
}

func (d *dissector) End(side pcap.Side, t time.Time, reset bool) {
	if d.udp || len(d.buf[side]) == 0 {
		return
	}
	d.message(side, d.start[side], d.buf[side][min(2, len(d.buf[side])):], d.buf[side], true)
	d.buf[side] = nil
}

// message dissects one DNS message; wire is what was on the wire (with the
// TCP length prefix), nil for UDP.
func (d *dissector) message(side pcap.Side, t time.Time, msg, wire []byte, incomplete bool) {
	m := d.e.NewMessage(side, t)
	if wire == nil {
		wire = msg
	}
	m.Len = int64(len(wire))
	if d.e.KeepRaw() {
		m.Raw = append([]byte(nil), wire...)
	}
	m.Incomplete = incomplete
	if d.udp && d.cut[side] {
		m.Incomplete, m.Truncated, d.cut[side] = true, true, false
	}
	info := &Info{UDP: d.udp}
	m.Info = info
	if len(msg) >= 12 {
		info.ID = binary.BigEndian.Uint16(msg)
		info.Response = msg[2]&0x80 != 0
		info.Opcode = opcodeName(int(msg[2]>>3) & 0xf)
		for i := range info.Counts {
			info.Counts[i] = binary.BigEndian.Uint16(msg[4+2*i:])
		}
	}
	dm := new(dns.Msg)
	if err := dm.Unpack(msg); err != nil {
		info.Err = err.Error()
		if len(msg) < 12 {
			info.Err = fmt.Sprintf("%d bytes: shorter than a header", len(msg))
		}
		m.Summary = fmt.Sprintf("dns id=%d malformed: %s", info.ID, info.Err)
	} else {
		info.Msg = dm
		if got := [4]uint16{uint16(len(dm.Question)), uint16(len(dm.Answer)), uint16(len(dm.Ns)), uint16(len(dm.Extra))}; got != info.Counts {
			m.AddProblem(ruleParses, "header counts qd=%d an=%d ns=%d ar=%d, the message holds %d, %d, %d, %d records", info.Counts[0], info.Counts[1], info.Counts[2], info.Counts[3], got[0], got[1], got[2], got[3])
		}
		info.Rcode = dns.RcodeToString[dm.Rcode]
		if dm.Rcode == dns.RcodeBadVers {
			// 16 in the header and OPT (the only way to carry it) is
			// BADVERS (RFC 6891 6.1.3); BADSIG is a TSIG record's error.
			info.Rcode = "BADVERS"
		}
		if len(dm.Question) > 0 {
			q := dm.Question[0]
			info.Question = fmt.Sprintf("%s %s %s", q.Name, dns.TypeToString[q.Qtype], dns.ClassToString[q.Qclass])
		}
		for i, rr := range dm.Answer {
			if i == 8 {
				info.Answers = append(info.Answers, fmt.Sprintf("(+%d more)", len(dm.Answer)-8))
				break
			}
			info.Answers = append(info.Answers, strings.ReplaceAll(rr.String(), "\t", " "))
		}
		kind := "query"
		if dm.Response {
			kind = "response " + info.Rcode
		}
		if dm.Opcode != dns.OpcodeQuery {
			kind = info.Opcode + " " + kind
		}
		m.Summary = fmt.Sprintf("dns %s id=%d %s", kind, dm.Id, info.Question)
		if dm.Response {
			m.Summary += fmt.Sprintf(" an=%d ns=%d ar=%d", len(dm.Answer), len(dm.Ns), len(dm.Extra))
		}
		if dm.Truncated {
			m.Summary += " TC"
		}
	}
	if side == pcap.Client {
		if len(d.waiting) >= 1024 {
			d.waiting = d.waiting[1:]
		}
		d.waiting = append(d.waiting, m)
	} else {
		// RFC 1035 7.3: match by ID, preferring the same question; over
		// TCP, answers may come out of order (RFC 7766 7).
		best := -1
		for i, q := range d.waiting {
			qi := InfoOf(q)
			if qi.ID != info.ID {
				continue
			}
			if best < 0 {
				best = i
			}
			if strings.EqualFold(qi.Question, info.Question) {
				best = i
				break
			}
		}
		if best >= 0 {
			m.Peer = d.waiting[best]
			d.waiting = append(d.waiting[:best:best], d.waiting[best+1:]...)
		}
	}
	d.e.Emit(m)
}

func opcodeName(op int) string {
	if s, ok := dns.OpcodeToString[op]; ok {
		return s
	}
	return fmt.Sprintf("OPCODE%d", op)
}
