package dns

import (
	"encoding/binary"
	"encoding/hex"

	mdns "github.com/miekg/dns"
)

// DefaultEDNSSize is the UDP payload size the servers advertise and accept
// by default: 1232 bytes, the DNS flag day 2020 value that avoids IP
// fragmentation.
const DefaultEDNSSize = 1232

// minUDPSize is the classic UDP limit of RFC 1035 section 4.2.1.
const minUDPSize = 512

// query is an incoming request that passed the common checks.
type query struct {
	msg *mdns.Msg
	opt *mdns.OPT // the request's OPT record, nil without EDNS
	// udpLimit is the most the requester can take over UDP.
	udpLimit int
}

// checkQuery applies the checks every DNS server here shares (RFC 1035,
// RFC 6891, RFC 8906) to a raw request. It returns the parsed query, or a
// ready error response, or neither when the message must be dropped.
func checkQuery(buf []byte, ednsSize uint16) (*query, *mdns.Msg) {
	// RFC 1035 4.1.1: every message starts with a 12-byte header; anything
	// shorter cannot even be answered (no ID), so it is dropped.
	if len(buf) < 12 {
		return nil, nil
	}
	// RFC 8906 3.1.1 / RFC 1035 4.1.1: a message with QR=1 is a response;
	// answering responses invites loops, so it is ignored.
	if buf[2]&0x80 != 0 {
		return nil, nil
	}
	req := new(mdns.Msg)
	if err := req.Unpack(buf); err != nil {
		// RFC 1035 4.1.1: Format error - The name server was unable to
		// interpret the query. Echo ID, opcode and RD from the raw header.
		resp := new(mdns.Msg)
		resp.Id = binary.BigEndian.Uint16(buf[0:2])
		resp.Response = true
		resp.Opcode = int(buf[2]>>3) & 0xF
		resp.RecursionDesired = buf[2]&0x01 != 0
		resp.Rcode = mdns.RcodeFormatError
		return nil, resp
	}
	resp := replyTo(req)

	// RFC 6891 6.1.1: "If a query message with more than one OPT RR is
	// received, a FORMERR (RCODE=1) MUST be returned." An OPT outside the
	// additional section is malformed too.
	var opt *mdns.OPT
	nopt := 0
	for _, rr := range req.Extra {
		if o, ok := rr.(*mdns.OPT); ok {
			opt = o
			nopt++
		}
	}
	misplaced := false
	for _, rr := range append(append([]mdns.RR(nil), req.Answer...), req.Ns...) {
		if _, ok := rr.(*mdns.OPT); ok {
			misplaced = true
		}
	}
	if nopt > 1 || misplaced {
		resp.Rcode = mdns.RcodeFormatError
		if opt != nil {
			addOPT(resp, opt, ednsSize)
		}
		return nil, resp
	}
	if opt != nil {
		// RFC 6891 6.1.3: "If a responder does not implement the VERSION
		// level of the request, then it MUST respond with RCODE=BADVERS."
		// The response carries an OPT with our highest version, 0.
		if opt.Version() > 0 {
			resp.Rcode = mdns.RcodeBadVers
			addOPT(resp, opt, ednsSize)
			return nil, resp
		}
	}

	// RFC 1035 4.1.1 / RFC 8906 3.1.4: Not Implemented for opcodes other
	// than QUERY (NOTIFY, UPDATE, STATUS, IQUERY, unassigned).
	if req.Opcode != mdns.OpcodeQuery {
		resp.Rcode = mdns.RcodeNotImplemented
		if opt != nil {
			addOPT(resp, opt, ednsSize)
		}
		return nil, resp
	}

	// RFC 1035 4.1.2 / RFC 9619: a QUERY carries exactly one question;
	// QDCOUNT 0 or more than 1 is a format error.
	if binary.BigEndian.Uint16(buf[4:6]) != 1 || len(req.Question) != 1 {
		resp.Rcode = mdns.RcodeFormatError
		resp.Question = nil
		if opt != nil {
			addOPT(resp, opt, ednsSize)
		}
		return nil, resp
	}

	q := &query{msg: req, opt: opt, udpLimit: minUDPSize}
	if opt != nil {
		// RFC 6891 6.2.3/6.2.5: values below 512 are treated as 512; the
		// response never exceeds what the requester can reassemble, nor
		// what we advertise ourselves.
		q.udpLimit = max(minUDPSize, min(int(opt.UDPSize()), int(ednsSize)))
	}
	return q, nil
}

// replyTo starts a response to req: same ID, opcode and question, QR=1, RD
// and CD copied (RFC 1035 4.1.1, RFC 4035 3.1.6), AA/TC/RA/Z/AD clear.
func replyTo(req *mdns.Msg) *mdns.Msg {
	resp := new(mdns.Msg)
	resp.Id = req.Id
	resp.Response = true
	resp.Opcode = req.Opcode
	resp.RecursionDesired = req.RecursionDesired
	resp.CheckingDisabled = req.CheckingDisabled
	if len(req.Question) == 1 {
		resp.Question = []mdns.Question{req.Question[0]}
	}
	return resp
}

// addOPT appends our OPT record to resp: RFC 6891 7: "If an OPT record is
// present in a received request, compliant responders MUST include an OPT
// record in their respective responses." Version 0, our payload size, DO
// copied (RFC 3225 3), no options: unknown options are ignored (6.1.2).
func addOPT(resp *mdns.Msg, reqOPT *mdns.OPT, ednsSize uint16) {
	o := new(mdns.OPT)
	o.Hdr.Name = "."
	o.Hdr.Rrtype = mdns.TypeOPT
	o.SetUDPSize(ednsSize)
	if reqOPT != nil && reqOPT.Do() {
		o.SetDo()
	}
	resp.Extra = append(resp.Extra, o)
}

// addOPTNSID is addOPT with the name server identifier nsid in it when the
// request carries an NSID option: RFC 5001 2.2, "A name server that
// understands the NSID option and chooses to honor a particular NSID
// request responds by including identifying information in a NSID option
// in an EDNS OPT pseudo-RR in the response to the query." Without the
// request's option, or with an empty nsid, no NSID is sent.
func addOPTNSID(resp *mdns.Msg, reqOPT *mdns.OPT, ednsSize uint16, nsid []byte) {
	addOPT(resp, reqOPT, ednsSize)
	if len(nsid) == 0 || reqOPT == nil {
		return
	}
	for _, o := range reqOPT.Option {
		if o.Option() == mdns.EDNS0NSID {
			opt := resp.Extra[len(resp.Extra)-1].(*mdns.OPT)
			opt.Option = append(opt.Option, &mdns.EDNS0_NSID{Code: mdns.EDNS0NSID, Nsid: hex.EncodeToString(nsid)})
			return
		}
	}
}
