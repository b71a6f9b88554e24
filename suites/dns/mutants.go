package dns

import (
	"encoding/binary"

	mdns "github.com/miekg/dns"

	contract "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets/mutant"
)

// DNS's mutants: the reference behind a proxy that breaks one rule in every
// answer (over UDP and TCP, authoritative and resolver), each killed by the
// specs it names (targets/mutant/README.md). Each names the sections of
// the authoritative server's specs that kill it: against a broken answer the
// resolver's specs, and many others, wait out their deadlines.
func init() {
	mutant.Register(contract.Name,
		answerMutant("wrong-id", "adds one to the ID of every answer but those about the root name",
			// Clients wait out their deadline for the right ID: a small subset.
			"rfc1035:4.1.2 || rfc1035:4.2.2 || rfc7766:6.2.1.1",
			[]string{"dns/rfc1035/4.1.2/question-copied", "dns/rfc1035/4.2.2/two-messages-one-segment", "dns/rfc7766/6.2.1.1/pipelined-queries"},
			sparesRoot(func(m []byte) []byte { binary.BigEndian.PutUint16(m, binary.BigEndian.Uint16(m)+1); return m })),
		answerMutant("clear-aa", "clears the AA bit of every answer",
			"rfc1035:4.1.1 || rfc1034:4.3.2",
			[]string{"dns/rfc1035/4.1.1/aa-on-authoritative-answer", "dns/rfc1035/4.1.1/aa-on-authoritative-answer-tcp", "dns/rfc1034/4.3.2/answer-a"},
			func(m []byte) []byte { m[2] &^= 0x04; return m }),
		answerMutant("flip-qr", "clears the QR bit of every answer but those about the root name, so it reads as a query",
			"rfc1035:4.1.1 || rfc1034:4.3.2",
			[]string{"dns/rfc1035/4.1.1/qr-set", "dns/rfc1034/4.3.2/answer-a"},
			sparesRoot(func(m []byte) []byte { m[2] ^= 0x80; return m })),
		answerMutant("drop-question", "removes the question section from every answer (QDCOUNT 0)",
			"rfc1035:4.1.2 || rfc1035:4.2.1 || rfc7766:6.2.1.1",
			[]string{"dns/rfc1035/4.1.2/question-copied", "dns/rfc1035/4.2.1/several-queries-one-socket", "dns/rfc7766/6.2.1.1/pipelined-queries"},
			dropQuestion),
		answerMutant("swap-noerror-nxdomain", "answers NXDOMAIN for NOERROR and NOERROR for NXDOMAIN",
			"rfc1034:4.3.2 || rfc2308:3",
			[]string{"dns/rfc1034/4.3.2/answer-a", "dns/rfc1034/4.3.2/nxdomain", "dns/rfc2308/3/nxdomain-soa"},
			func(m []byte) []byte {
				switch m[3] & 0x0f {
				case mdns.RcodeSuccess:
					m[3] = m[3]&^0x0f | mdns.RcodeNameError
				case mdns.RcodeNameError:
					m[3] = m[3]&^0x0f | mdns.RcodeSuccess
				}
				return m
			}),
		answerMutant("tsig-errors-dropped", "turns every TSIG error response (BADKEY, BADSIG, BADTIME) into NOERROR without the TSIG record, as a server that ignores a signature it cannot check",
			"rfc8945",
			[]string{"dns/rfc8945/5.2.1/unknown-key-badkey", "dns/rfc8945/5.2.2/bad-mac-badsig", "dns/rfc8945/5.2.3/time-skew-badtime"},
			func(b []byte) []byte {
				m := new(mdns.Msg)
				if m.Unpack(b) != nil {
					return b
				}
				ts := m.IsTsig()
				if ts == nil || ts.Error == 0 {
					return b
				}
				m.Extra = m.Extra[:len(m.Extra)-1]
				m.Rcode = mdns.RcodeSuccess
				out, err := m.Pack()
				if err != nil {
					return b
				}
				return out
			}),
		answerMutant("ixfr-soa-doubled", "answers an IXFR whose client is up to date with its SOA twice, an empty AXFR-form transfer, instead of the single SOA",
			"rfc1995",
			[]string{"dns/rfc1995/2/current-serial-single-soa", "dns/rfc1995/2/newer-serial-single-soa"},
			func(b []byte) []byte {
				m := new(mdns.Msg)
				if m.Unpack(b) != nil || len(m.Question) != 1 || m.Question[0].Qtype != mdns.TypeIXFR || len(m.Answer) != 1 || m.Answer[0].Header().Rrtype != mdns.TypeSOA {
					return b
				}
				m.Answer = append(m.Answer, mdns.Copy(m.Answer[0]))
				out, err := m.Pack()
				if err != nil {
					return b
				}
				return out
			}),
		answerMutant("ixfr-diffs-reversed", "swaps the deleted and the added records of every difference sequence of an incremental IXFR answer",
			"rfc1995",
			[]string{"dns/rfc1995/4/older-serial-transfer"},
			reverseDiffs),
		answerMutant("z-in-notimp", "sets the reserved Z bit in every NOTIMP response, as a server that builds it from the query's header does",
			"rfc1035:4.1.1",
			[]string{"dns/rfc1035/4.1.1/notimp-z-clear", "dns/rfc1035/4.1.1/notimp-z-clear-tcp"},
			func(m []byte) []byte {
				if m[3]&0x0f == mdns.RcodeNotImplemented {
					m[3] |= 0x40
				}
				return m
			}),
		answerMutant("rd-cleared-in-errors", "clears RD in every FORMERR and NOTIMP response",
			"rfc1035:4.1.1",
			[]string{"dns/rfc1035/4.1.1/notimp-rd-copied", "dns/rfc1035/4.1.1/formerr-rd-copied", "dns/rfc1035/4.1.1/qdcount-0-rd-copied"},
			func(m []byte) []byte {
				if rc := m[3] & 0x0f; rc == mdns.RcodeFormatError || rc == mdns.RcodeNotImplemented {
					m[2] &^= 0x01
				}
				return m
			}),
		answerMutant("stale-ttl-zero", "sets TTL 0 on every answer record with TTL 30, the TTL the reference gives stale data (RFC 8767)",
			"rfc8767:4",
			[]string{"dns/rfc8767/4/stale-ttl-30"},
			staleTTLZero),
		mutant.Mutant{
			Name: "fixed-source-port",
			Doc:  "the reference resolver sends every upstream query from one fixed UDP source port (query-source-port=fixed)",
			// forgery-race-lost poisons it too when run alone, but with the
			// mutant harness's runs sharing two cores a retransmission of
			// the resolver can win the race: the port spec is the
			// deterministic kill.
			Kills:  []string{"dns/rfc5452/9.2/unpredictable-port"},
			Filter: "rfc5452:9.2",
			Params: map[string]string{contract.ParamQuerySourcePort: "fixed"},
		},
		mutant.Mutant{
			Name:   "qname-min-leak-qtype",
			Doc:    "the reference resolver's minimised upstream queries keep the client's QTYPE (qname-minimisation-leak-qtype=true)",
			Kills:  []string{"dns/rfc9156/2/minimised-qtype"},
			Filter: "rfc9156",
			Params: map[string]string{contract.ParamQNameMinLeakQType: "true"},
		},
		mutant.Mutant{
			Name:   "tc-on-udp",
			Doc:    "sets the TC bit on every answer over UDP",
			Kills:  []string{"dns/rfc1035/4.2.1/no-tc-when-fits", "dns/rfc1034/4.3.2/answer-a"},
			Filter: "rfc1035:4.2.1 || rfc1034:4.3.2",
			Datagram: func(string) *mutant.Datagram {
				return &mutant.Datagram{ToClient: guarded(func(m []byte) []byte { m[2] |= 0x02; return m })}
			},
		},
		mutant.Mutant{
			Name:   "udp-other-port",
			Doc:    "sends every answer over UDP from another port than the one queried",
			Kills:  []string{"dns/rfc2181/4.1/reply-from-queried-address", "dns/rfc1035/4.1.2/question-copied"},
			Filter: "rfc2181:4.1 || rfc1035:4.1.2",
			Datagram: func(string) *mutant.Datagram {
				return &mutant.Datagram{OtherPort: true}
			},
		},
		mutant.Mutant{
			Name:   "tcp-close-after-first",
			Doc:    "closes every TCP connection after its first answer",
			Kills:  []string{"dns/rfc7766/6.2.1/connection-reuse", "dns/rfc7766/6.2.1.1/pipelined-queries"},
			Filter: "rfc7766:6.2.1 || rfc7766:6.2.1.1 || rfc1035:4.2.2",
			Stream: mutant.ServerStreams(func() mutant.Stream {
				return mutant.Framed(splitTCP, 0, func(_ int, msg []byte) ([]byte, mutant.Action) { return msg, mutant.Close })
			}),
		},
	)
}

// answerMutant is a mutant applying mutate to every DNS message the reference
// sends, over UDP and over TCP.
func answerMutant(name, doc, filter string, kills []string, mutate func(msg []byte) []byte) mutant.Mutant {
	mutate = guarded(mutate)
	return mutant.Mutant{
		Name: name, Doc: doc, Kills: kills, Filter: filter,
		Datagram: mutant.Answers(mutate),
		Stream: mutant.ServerStreams(func() mutant.Stream {
			return mutant.Framed(splitTCP, 0, func(_ int, framed []byte) ([]byte, mutant.Action) {
				m := mutate(append([]byte(nil), framed[2:]...))
				if len(m) > 0xffff {
					return framed, mutant.Continue
				}
				return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...), mutant.Continue
			})
		}),
	}
}

// sparesRoot leaves answers to a question about the root name unchanged:
// the liveness preflight asks ". SOA", and a mutant that breaks every
// answer would be stopped there (exit 2, no spec judged) instead of by the
// specs it names. A server broken for the names it serves is the case the
// suite must catch.
func sparesRoot(mutate func([]byte) []byte) func([]byte) []byte {
	return func(m []byte) []byte {
		if binary.BigEndian.Uint16(m[4:]) > 0 && m[12] == 0 {
			return m
		}
		return mutate(m)
	}
}

// guarded guards a mutation: a message shorter than a DNS header passes
// unchanged.
func guarded(mutate func([]byte) []byte) func([]byte) []byte {
	return func(m []byte) []byte {
		if len(m) < 12 {
			return m
		}
		return mutate(m)
	}
}

// splitTCP frames DNS over TCP: a two-byte length, then the message.
func splitTCP(data []byte, _ bool) (int, []byte, error) {
	if len(data) < 2 {
		return 0, nil, nil
	}
	n := 2 + int(binary.BigEndian.Uint16(data))
	if len(data) < n {
		return 0, nil, nil
	}
	return n, nil, nil
}

// dropQuestion removes the question section, packing the message anew (its
// names may be compressed against the question's); a message that does not
// unpack passes unchanged.
func dropQuestion(m []byte) []byte {
	var msg mdns.Msg
	if err := msg.Unpack(m); err != nil {
		return m
	}
	msg.Question = nil
	out, err := msg.Pack()
	if err != nil {
		return m
	}
	return out
}

// staleTTLZero sets TTL 0 on the answer records with TTL 30; a message that
// does not unpack passes unchanged.
func staleTTLZero(m []byte) []byte {
	var msg mdns.Msg
	if err := msg.Unpack(m); err != nil {
		return m
	}
	changed := false
	for _, rr := range msg.Answer {
		if rr.Header().Ttl == 30 {
			rr.Header().Ttl = 0
			changed = true
		}
	}
	if !changed {
		return m
	}
	out, err := msg.Pack()
	if err != nil {
		return m
	}
	return out
}

// reverseDiffs swaps the deleted and added records of each difference
// sequence in an incremental IXFR answer (RFC 1995 4), leaving the SOAs
// where they are.
func reverseDiffs(b []byte) []byte {
	m := new(mdns.Msg)
	if m.Unpack(b) != nil || len(m.Question) != 1 || m.Question[0].Qtype != mdns.TypeIXFR ||
		len(m.Answer) < 3 || m.Answer[1].Header().Rrtype != mdns.TypeSOA {
		return b
	}
	body := m.Answer[1 : len(m.Answer)-1]
	var out []mdns.RR
	for i := 0; i < len(body); {
		oldSOA := body[i]
		i++
		var del, add []mdns.RR
		for i < len(body) && body[i].Header().Rrtype != mdns.TypeSOA {
			del = append(del, body[i])
			i++
		}
		if i >= len(body) {
			return b
		}
		newSOA := body[i]
		i++
		for i < len(body) && body[i].Header().Rrtype != mdns.TypeSOA {
			add = append(add, body[i])
			i++
		}
		out = append(append(append(append(out, oldSOA), add...), newSOA), del...)
	}
	m.Answer = append(append([]mdns.RR{m.Answer[0]}, out...), m.Answer[len(m.Answer)-1])
	packed, err := m.Pack()
	if err != nil {
		return b
	}
	return packed
}
