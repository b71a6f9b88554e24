package dns

import (
	"bytes"
	"encoding/hex"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc6891_7_opt = spec.Section("dns", "rfc6891", "7", "Transport Considerations")
var rfc5001_2_2 = spec.Section("dns", "rfc5001", "2.2", "Name Server Behavior")
var rfc7873_5_2 = spec.Section("dns", "rfc7873", "5.2", "Responding to a Request")
var rfc7873_4 = spec.Section("dns", "rfc7873", "4", "DNS Cookies")
var rfc7871_7_2_1 = spec.Section("dns", "rfc7871", "7.2.1", "Authoritative Nameserver")
var rfc7314_2 = spec.Section("dns", "rfc7314", "2", "Option Format")
var rfc7830_4 = spec.Section("dns", "rfc7830", "4", "Usage Considerations")

// sentenceUnknownOption is RFC 6891 6.1.2's rule, which binds a server that
// does not implement an option: it answers as if the option were absent.
const sentenceUnknownOption = `RFC 6891 6.1.2: "Any OPTION-CODE values not understood by a responder or requestor MUST be ignored."`

// rawOption is an EDNS option with the given code and raw data, sent as is
// (miekg/dns would refuse to pack a malformed one of a known type).
func rawOption(code uint16, data []byte) mdns.EDNS0 {
	return &mdns.EDNS0_LOCAL{Code: code, Data: data}
}

// responseOption returns the response's option with the code, or nil.
func responseOption(m *mdns.Msg, code uint16) mdns.EDNS0 {
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if opt.Option() == code {
				return opt
			}
		}
	}
	return nil
}

// answersWithOption checks a normal answer to www.test. A that carries an
// OPT record: what a server that ignores an option sends.
func answersWithOption(t *spec.T, m *mdns.Msg) {
	t.Check(answersWWW(m))
	t.Check(checkHasOPT(m))
}

// clientCookie is a fixed 8-byte client cookie.
var clientCookie = []byte{0x70, 0x72, 0x6f, 0x74, 0x6f, 0x73, 0x70, 0x63}

// cookieReply asks www.test. A with the cookie data and returns the
// response and its COOKIE option's bytes (nil without one).
func cookieReply(t *spec.T, data []byte) (*mdns.Msg, []byte) {
	m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0COOKIE, data)))
	o, ok := responseOption(m, mdns.EDNS0COOKIE).(*mdns.EDNS0_COOKIE)
	if !ok {
		return m, nil
	}
	b, err := hex.DecodeString(o.Cookie)
	if err != nil {
		t.Mismatch("a COOKIE option of bytes", "%q", o.Cookie)
	}
	return m, b
}

// requireCookies skips unless the server answers a client cookie with a
// server cookie: the RFC 7873 server rules bind only servers that
// implement cookies, the others ignore the option (RFC 6891 6.1.2).
func requireCookies(t *spec.T) []byte {
	_, c := cookieReply(t, clientCookie)
	if c == nil {
		t.Skipf("the server returns no COOKIE option to a client cookie: it does not implement DNS cookies (RFC 7873 5.2.3's rules bind the servers that do)")
	}
	return c
}

// ecsOption is an RFC 7871 ECS option: FAMILY, SOURCE PREFIX-LENGTH, SCOPE
// PREFIX-LENGTH 0, ADDRESS as given.
func ecsOption(family uint16, source uint8, addr []byte) mdns.EDNS0 {
	data := []byte{byte(family >> 8), byte(family), source, 0}
	return rawOption(mdns.EDNS0SUBNET, append(data, addr...))
}

// RFC 6891 version and option handling combined, and the options the peers'
// compliance testers send (NSID, COOKIE, ECS, EXPIRE, PADDING): a server
// either implements an option as its RFC says or ignores it.
var _ = Describe("EDNS options and versions", func() {
	rfc6891_6_1_3.It("badvers-with-do", spec.MUST, "answers EDNS version 1 with DO=1 with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("version 1 combined with the DO flag"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, true, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_1_3.It("badvers-with-unknown-option", spec.MUST, "answers EDNS version 1 with an unknown option with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("version 1 combined with an unknown option"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0, unknownOption()))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_1_3.It("badvers-with-unknown-flags", spec.MUST, "answers EDNS version 1 with an unknown EDNS flag with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("version 1 combined with an unknown EDNS flag"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0x4000))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
	})

	rfc6891_6_1_3.It("badvers-version-255", spec.MUST, "answers EDNS version 255 with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("the highest version"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 255, false, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
	})

	rfc6891_6_1_3.It("badvers-combined-tcp", spec.MUST, "answers EDNS version 1 with DO, an unknown flag and an unknown option over TCP with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("version 1 with every extra over TCP"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, true, 0x4000, unknownOption()))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_1_3.It("badvers-no-answer", spec.MUST, "puts no answer records in a BADVERS response", spec.Quote(`All responses MUST be limited in format to the VERSION level of the request, but the VERSION of each response SHOULD be the highest implementation level of the responder.`).SharedBecause("a version 1 request is not answered at version 0"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		if len(m.Answer) != 0 {
			t.Mismatch("no answer records (the version 1 query is not answered)", "%s", summary(m))
		}
	})

	rfc6891_6_1_2.It("unknown-option-ignored-tcp", spec.MUST, "answers a query with an unknown EDNS option over TCP normally", spec.Quote(sentenceUnknownOption).SharedBecause("an unknown option over TCP"), func(t *spec.T) {
		answersWithOption(t, tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, unknownOption())))
	})

	rfc6891_6_1_2.It("unknown-options-several", spec.MUST, "answers a query with three unknown EDNS options normally", spec.Quote(sentenceUnknownOption).SharedBecause("several unknown options"), func(t *spec.T) {
		answersWithOption(t, udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0,
			rawOption(65001, []byte("a")), rawOption(65002, nil), rawOption(65535, []byte("protospec")))))
	})

	rfc6891_6_1_2.It("unknown-option-with-do", spec.MUST, "answers a query with DO=1 and an unknown option normally, DO copied", spec.Quote(sentenceUnknownOption).SharedBecause("an unknown option with DO"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, true, 0, unknownOption()))
		answersWithOption(t, m)
		if o := m.IsEdns0(); o != nil && !o.Do() {
			t.Mismatch("DO=1 copied (RFC 3225 3)", "DO=0")
		}
	})

	rfc6891_6_1_2.It("unknown-option-nxdomain", spec.MUST, "answers NXDOMAIN to a query for a missing name with an unknown option", spec.Quote(sentenceUnknownOption).SharedBecause("an unknown option in a negative answer"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameMissing, mdns.TypeA, 1232, 0, false, 0, unknownOption()))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkHasOPT(m))
	})

	rfc6891_7_opt.It("truncated-option-formerr", spec.MUST, "answers a query whose EDNS option runs past the OPT record with FORMERR", spec.Quote(`If there is a problem with processing the OPT record itself, such as an option value that is badly formatted or that includes out-of-range values, a FORMERR MUST be returned.`), func(t *spec.T) {
		// OPT RDATA of 4 bytes: option 65001 announcing 16 bytes of data
		// that are not there.
		raw := header(0x6161, 0, 1, 0, 0, 1)
		raw = append(raw, question(wireName("www", "test"), mdns.TypeA, mdns.ClassINET)...)
		raw = append(raw, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0xfd, 0xe9, 0, 16)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(requireResponse(r))
		m, err := parse(r.resp)
		t.Check(err)
		t.Check(checkRcode(m, mdns.RcodeFormatError))
	})

	// NSID (RFC 5001).
	rfc5001_2_2.It("nsid-query-answered", spec.MUST, "answers a query with an NSID request normally", spec.Quote(sentenceUnknownOption).SharedBecause("NSID, which a server without it ignores"), func(t *spec.T) {
		answersWithOption(t, udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0NSID, nil))))
	})

	rfc5001_2_2.It("nsid-returned", spec.MAY, "returns its name server identifier to a query that asks for it", spec.Inferred(`RFC 5001 2.2: "A name server that understands the NSID option and chooses to honor a particular NSID request responds by including identifying information in a NSID option in an EDNS OPT pseudo-RR in the response to the query."`, "RFC 5001 leaves honoring the request to the server: MAY"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0NSID, nil)))
		o, ok := responseOption(m, mdns.EDNS0NSID).(*mdns.EDNS0_NSID)
		if !ok || o.Nsid == "" {
			t.Mismatch("an NSID option with the server's identifier", "%s", summary(m))
		}
	})

	rfc5001_2_2.It("nsid-returned-tcp", spec.MAY, "returns its name server identifier over TCP", spec.Inferred(`RFC 5001 2.2 (as above), over TCP.`, "RFC 5001 leaves honoring the request to the server: MAY"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0NSID, nil)))
		if o, ok := responseOption(m, mdns.EDNS0NSID).(*mdns.EDNS0_NSID); !ok || o.Nsid == "" {
			t.Mismatch("an NSID option with the server's identifier", "%s", summary(m))
		}
	})

	rfc5001_2_2.It("nsid-not-unsolicited", spec.MUST, "sends no NSID option to a query that did not ask for one", spec.Inferred(`RFC 5001 2.1: "A resolver signals its desire for information identifying a name server by sending an empty NSID option"; the server's identifier answers that signal, and RFC 6891 gives a responder no other reason to send an option.`, "RFC 5001 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0))
		if responseOption(m, mdns.EDNS0NSID) != nil {
			t.Mismatch("no NSID option (none was asked for)", "%s", summary(m))
		}
	})

	// DNS cookies (RFC 7873, RFC 9018).
	rfc7873_5_2.It("cookie-query-answered", spec.MUST, "answers a query with a client cookie normally", spec.Inferred(`RFC 7873 5.2.3 (Only a Client COOKIE Option): the server may "Process the request and provide a normal response"; a server without cookies ignores the option (RFC 6891 6.1.2: "Any OPTION-CODE values not understood by a responder or requestor MUST be ignored.").`, "a server may also send BADCOOKIE or discard when rate limiting, which a first query from a client does not call for; MUST is the suite's reading").SharedBecause("a first query with a client cookie"), func(t *spec.T) {
		m, _ := cookieReply(t, clientCookie)
		answersWithOption(t, m)
	})

	rfc7873_5_2.It("server-cookie-returned", spec.MAY, "returns a server cookie to a query with a client cookie", spec.Inferred(`RFC 7873 5.2.3: "If the server responds, choosing 2 or 3 above, it SHALL generate its own COOKIE option containing both the Client Cookie copied from the request and a Server Cookie it has generated".`, "the SHALL binds servers that implement DNS cookies, which is optional: MAY"), func(t *spec.T) {
		if _, c := cookieReply(t, clientCookie); c == nil {
			t.Mismatch("a COOKIE option with a server cookie", "no COOKIE option")
		}
	})

	rfc7873_5_2.It("cookie-client-copied", spec.MUST, "copies the client cookie into the COOKIE option it returns", spec.Quote(`RFC 7873 5.2.3: "If the server responds, choosing 2 or 3 above, it SHALL generate its own COOKIE option containing both the Client Cookie copied from the request and a Server Cookie it has generated".`).SharedBecause("the client cookie part of the sentence"), func(t *spec.T) {
		c := requireCookies(t)
		if len(c) < 8 || !bytes.Equal(c[:8], clientCookie) {
			t.Mismatch("the client cookie "+hex.EncodeToString(clientCookie)+" first", "%x", c)
		}
	})

	rfc7873_4.It("server-cookie-length", spec.MUST, "returns a COOKIE option of 16 to 40 bytes", spec.Inferred(`RFC 7873 4: "In a request sent by a client when a Server Cookie is known, and in all responses to such a request, the length is variable -- from 16 to 40 bytes, consisting of an 8-byte Client Cookie followed by the variable-length (8 bytes to 32 bytes) Server Cookie".`, "RFC 7873 defines the format without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		c := requireCookies(t)
		if len(c) < 16 || len(c) > 40 {
			t.Mismatch("16 to 40 bytes", "%d bytes", len(c))
		}
	})

	rfc7873_5_2.It("cookie-malformed-formerr", spec.MUST, "answers a 5-byte COOKIE option with FORMERR", spec.Inferred(`RFC 7873 5.2.2 (Malformed COOKIE Option): a COOKIE option too short to hold a client cookie is malformed, and RFC 6891 7: "If there is a problem with processing the OPT record itself, such as an option value that is badly formatted or that includes out-of-range values, a FORMERR MUST be returned."`, "the FORMERR binds a server that implements cookies (one that does not ignores the option); MUST is RFC 6891's").SharedBecause("the malformed COOKIE case"), func(t *spec.T) {
		requireCookies(t)
		m, _ := cookieReply(t, clientCookie[:5])
		t.Check(checkRcode(m, mdns.RcodeFormatError))
	})

	rfc7873_5_2.It("cookie-bad-server-cookie", spec.MUST, "answers a wrong server cookie normally or with BADCOOKIE, with a fresh COOKIE option", spec.Inferred(`RFC 7873 5.2.4 (A Client Cookie and an Invalid Server Cookie): the server handles the request as if only a client cookie had come (5.2.3): a normal response or BADCOOKIE, with "its own COOKIE option containing both the Client Cookie copied from the request and a Server Cookie it has generated".`, "the rules bind a server that implements cookies; MUST is the SHALL of 5.2.3"), func(t *spec.T) {
		requireCookies(t)
		bogus := append(append([]byte(nil), clientCookie...), 1, 2, 3, 4, 5, 6, 7, 8)
		m, c := cookieReply(t, bogus)
		t.Check(checkRcode(m, mdns.RcodeSuccess, mdns.RcodeBadCookie))
		if len(c) < 16 || !bytes.Equal(c[:8], clientCookie) {
			t.Mismatch("a COOKIE option with the client cookie and a server cookie", "%x", c)
		}
	})

	// Client subnet (RFC 7871), as an authoritative server.
	rfc7871_7_2_1.It("ecs-query-answered", spec.MUST, "answers a query with a client subnet option normally", spec.Inferred(`RFC 7871 7.2.1: "Authoritative Nameservers that have not implemented or enabled support for the ECS option ought to safely ignore it within incoming queries"; one that supports it answers with data for the subnet, and test. has one answer for every subnet.`, "RFC 7871 words it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		answersWithOption(t, udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, ecsOption(1, 24, []byte{192, 0, 2}))))
	})

	rfc7871_7_2_1.It("ecs-echo-matches", spec.MUST, "echoes FAMILY, SOURCE PREFIX-LENGTH and ADDRESS when it returns a client subnet option", spec.Inferred(`RFC 7871 7.2.1: in a response with the ECS option, "The FAMILY, SOURCE PREFIX-LENGTH, and ADDRESS fields MUST match those in the query" (a server without ECS sends none, and is not judged).`, "the MUST binds servers that answer with ECS"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, ecsOption(1, 24, []byte{192, 0, 2})))
		o, ok := responseOption(m, mdns.EDNS0SUBNET).(*mdns.EDNS0_SUBNET)
		if !ok {
			t.Skipf("no ECS option in the response: the server ignores client subnet (RFC 7871 7.2.1 allows it)")
		}
		if o.Family != 1 || o.SourceNetmask != 24 || !o.Address.To4().Equal([]byte{192, 0, 2, 0}) {
			t.Mismatch("FAMILY 1, SOURCE 24, ADDRESS 192.0.2.0", "FAMILY %d, SOURCE %d, ADDRESS %s", o.Family, o.SourceNetmask, o.Address)
		}
	})

	rfc7871_7_2_1.It("ecs-source-zero-answered", spec.MUST, "answers a query with a client subnet option of SOURCE PREFIX-LENGTH 0 normally, SCOPE 0", spec.Inferred(`RFC 7871 7.1.2: a SOURCE PREFIX-LENGTH of 0 keeps the client's address private; the answer cannot depend on an address it was not given, so a returned ECS option has SCOPE PREFIX-LENGTH 0.`, "RFC 7871 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, ecsOption(1, 0, nil)))
		answersWithOption(t, m)
		if o, ok := responseOption(m, mdns.EDNS0SUBNET).(*mdns.EDNS0_SUBNET); ok && o.SourceScope != 0 {
			t.Mismatch("SCOPE PREFIX-LENGTH 0", "%d", o.SourceScope)
		}
	})

	rfc7871_7_2_1.It("ecs-address-too-long", spec.SHOULD, "answers an ECS option with more ADDRESS octets than its prefix needs with FORMERR, or ignores it", spec.Quote(`RFC 7871 6: "A server receiving an ECS option that uses either too few or too many ADDRESS octets, or that has non-zero ADDRESS bits set beyond SOURCE PREFIX-LENGTH, SHOULD return FORMERR to reject the packet, as a signal to the software developer making the request to fix their implementation."`).In("6"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, ecsOption(1, 8, []byte{192, 0, 2, 0})))
		if responseOption(m, mdns.EDNS0SUBNET) == nil && m.Rcode == mdns.RcodeSuccess {
			return // a server without ECS ignores the option (7.2.1)
		}
		t.Check(checkRcode(m, mdns.RcodeFormatError))
	})

	rfc7871_7_2_1.It("ecs-bits-beyond-prefix", spec.SHOULD, "answers an ECS option with ADDRESS bits set beyond its prefix with FORMERR, or ignores it", spec.Quote(`RFC 7871 6: "A server receiving an ECS option that uses either too few or too many ADDRESS octets, or that has non-zero ADDRESS bits set beyond SOURCE PREFIX-LENGTH, SHOULD return FORMERR to reject the packet, as a signal to the software developer making the request to fix their implementation."`).In("6").SharedBecause("the bits-beyond-prefix case"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, ecsOption(1, 20, []byte{192, 0, 2})))
		if responseOption(m, mdns.EDNS0SUBNET) == nil && m.Rcode == mdns.RcodeSuccess {
			return
		}
		t.Check(checkRcode(m, mdns.RcodeFormatError))
	})

	// EDNS EXPIRE (RFC 7314).
	rfc7314_2.It("expire-query-answered", spec.MUST, "answers test. SOA with an EXPIRE option normally", spec.Quote(sentenceUnknownOption).SharedBecause("EXPIRE, which a server without it ignores"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameApex, mdns.TypeSOA, 1232, 0, false, 0, rawOption(mdns.EDNS0EXPIRE, nil)))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkHasOPT(m))
		if len(m.Answer) != 1 {
			t.Mismatch("the SOA in the answer", "%s", summary(m))
		}
	})

	rfc7314_2.It("expire-returned", spec.MAY, "returns the zone's expire value to a query with an EXPIRE option", spec.Inferred(`RFC 7314 2: the EDNS EXPIRE option carries the remaining time before the zone expires; a primary answers with the SOA EXPIRE field.`, "RFC 7314 is optional to implement: MAY"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameApex, mdns.TypeSOA, 1232, 0, false, 0, rawOption(mdns.EDNS0EXPIRE, nil)))
		o, ok := responseOption(m, mdns.EDNS0EXPIRE).(*mdns.EDNS0_EXPIRE)
		if !ok || o.Empty {
			t.Mismatch("an EXPIRE option with a value", "%s", summary(m))
		}
	})

	rfc7314_2.It("expire-at-most-soa", spec.MUST, "returns an EXPIRE value no greater than the SOA EXPIRE field", spec.Inferred(`RFC 7314 2: the value is the time remaining before the zone expires, which never exceeds the SOA EXPIRE field it counts down from.`, "RFC 7314 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameApex, mdns.TypeSOA, 1232, 0, false, 0, rawOption(mdns.EDNS0EXPIRE, nil)))
		o, ok := responseOption(m, mdns.EDNS0EXPIRE).(*mdns.EDNS0_EXPIRE)
		if !ok || o.Empty {
			t.Skipf("no EXPIRE value in the response: the server does not implement RFC 7314")
		}
		if o.Expire > fixture.SOAExpire {
			t.Mismatch("at most the SOA EXPIRE of test.", "%d", o.Expire)
		}
	})

	// Padding (RFC 7830).
	rfc7830_4.It("padding-query-answered", spec.MUST, "answers a query with a PADDING option normally", spec.Quote(sentenceUnknownOption).SharedBecause("PADDING, which a server without it ignores"), func(t *spec.T) {
		answersWithOption(t, udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0PADDING, make([]byte, 64)))))
	})

	rfc7830_4.It("padding-query-answered-tcp", spec.MUST, "answers a query with a PADDING option over TCP normally", spec.Quote(sentenceUnknownOption).SharedBecause("PADDING over TCP"), func(t *spec.T) {
		answersWithOption(t, tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0PADDING, make([]byte, 64)))))
	})

	rfc7830_4.It("padding-zero-octets", spec.SHOULD, "pads with zero octets when it pads a response", spec.Quote(`RFC 7830 3: "The PADDING octets SHOULD be set to 0x00."`).In("3"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, rawOption(mdns.EDNS0PADDING, nil)))
		o, ok := responseOption(m, mdns.EDNS0PADDING).(*mdns.EDNS0_PADDING)
		if !ok {
			t.Skipf("no PADDING option in the response: the server does not pad (RFC 8467 pads encrypted transports)")
		}
		for _, b := range o.Padding {
			if b != 0 {
				t.Mismatch("0x00 octets", "%x", o.Padding)
			}
		}
	})
})
