package ftp

import (
	"net/netip"
	"regexp"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc2428_2 = spec.Section(proto, "rfc2428", "2", "The EPRT Command")
	rfc2428_3 = spec.Section(proto, "rfc2428", "3", "The EPSV Command")
)

// epsvAll is the sentence of RFC 2428 3 on EPSV ALL; one spec per command
// it rejects.
const epsvAll = "Upon receipt of an EPSV ALL command, the server MUST reject all data connection setup commands other than EPSV (i.e., EPRT, PORT, PASV, et al.)."

var strictEPSV = regexp.MustCompile(`\(([!-~])([!-~])([!-~])([0-9]+)([!-~])\)`)

// requireEPSV skips the spec unless the server implements EPSV.
func (f *ftpc) requireEPSV() reply {
	r := f.cmd("EPSV")
	if r.code == 500 || r.code == 502 {
		f.t.Skipf("not applicable: the server does not implement EPSV (%d)", r.code)
	}
	return r
}

var _ = Describe("RFC 2428 EPRT and EPSV", func() {
	rfc2428_2.It("eprt-200", spec.MUST, "answers a valid EPRT with 200 and connects there for the transfer",
		spec.Quote("Upon receipt of a valid EPRT command, the server MUST return a code of 200 (Command OK)."), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("eprt", []byte("over EPRT\n"))
			f.must("TYPE I", 200)
			d, r := f.tryOpen(viaEPRT, "")
			if d == nil && (r.code == 500 || r.code == 502) {
				t.Skipf("not applicable: the server does not implement EPRT (%d)", r.code)
			}
			if d == nil {
				t.Mismatch("200 to a valid EPRT", "%s", r)
			}
			x := f.retrieveOn(d, "RETR "+path)
			expectTransfer(t, "RETR over EPRT", x)
			t.Check(spec.Equal("the file over EPRT", []byte("over EPRT\n"), x.data))
		})

	rfc2428_2.It("eprt-unsupported-522", spec.MUST, "answers EPRT of an unsupported network protocol with 522 and the list of those it supports",
		spec.Quote("The text portion of the response MUST indicate which network protocols the server does support."), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("EPRT |3|1.2.3.4|5282|")
			if r.code == 502 {
				t.Skipf("not applicable: the server does not implement EPRT (%d)", r.code)
			}
			expectCode(t, r, "the reply to EPRT of network protocol 3", 522)
			if !regexp.MustCompile(`\(\d+(,\d+)*\)`).MatchString(r.text()) {
				t.Mismatch("a 522 reply listing the supported protocols as (1) or (1,2)", "%s", r)
			}
		})

	rfc2428_3.It("epsv-229", spec.MUST, "answers EPSV with 229",
		spec.Quote("The response code for entering passive mode using an extended address MUST be 229."), func(t *spec.T) {
			f := loggedIn(t)
			expectCode(t, f.requireEPSV(), "the reply to EPSV", 229)
		})

	rfc2428_3.It("epsv-format", spec.MUST, "gives the port as (|||port|) in the 229 reply, the first two fields blank",
		spec.Quote("The first two fields contained in the parenthesis MUST be blank."), func(t *spec.T) {
			f := loggedIn(t)
			r := f.requireEPSV()
			expectCode(t, r, "the reply to EPSV", 229)
			m := strictEPSV.FindStringSubmatch(r.text())
			if m == nil || m[1] != m[2] || m[2] != m[3] || m[3] != m[5] {
				t.Mismatch("(<d><d><d><tcp-port><d>) with one delimiter character", "%s", r)
			}
		})

	rfc2428_3.It("epsv-same-address", spec.MUST, "serves the transfer on the EPSV port of the control connection's address",
		spec.Inferred("In addition, the network address used to establish the data connection will be the same network address used for the control connection.", "RFC 2428 states it with \"will\": the client has no other address to connect to"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("epsv", []byte("over EPSV\n"))
			f.must("TYPE I", 200)
			d, r := f.tryOpen(viaEPSV, "")
			if d == nil {
				if r.code == 500 || r.code == 502 {
					t.Skipf("not applicable: the server does not implement EPSV (%d)", r.code)
				}
				t.Mismatch("229 to EPSV", "%s", r)
			}
			x := f.retrieveOn(d, "RETR "+path)
			expectTransfer(t, "RETR over EPSV", x)
			t.Check(spec.Equal("the file over EPSV", []byte("over EPSV\n"), x.data))
		})

	rfc2428_3.It("epsv-protocol-argument", spec.SHOULD, "uses the network protocol EPSV names when it supports it",
		spec.Quote("If the requested protocol is supported by the server, it SHOULD use the protocol."), func(t *spec.T) {
			f := loggedIn(t)
			f.requireEPSV()
			af := "1"
			if !f.serverIP().Is4() {
				af = "2"
			}
			expectCode(t, f.cmd("EPSV "+af), "the reply to EPSV "+af+" (the control connection's protocol)", 229)
		})

	rfc2428_3.It("epsv-unsupported-522", spec.MUST, "answers EPSV of an unsupported network protocol with 522",
		spec.Quote("If not, the server MUST return the 522 error messages as outlined in section 2."), func(t *spec.T) {
			f := loggedIn(t)
			f.requireEPSV()
			expectCode(t, f.cmd("EPSV 3"), "the reply to EPSV 3 (an address family no FTP server speaks)", 522)
		})

	for _, c := range []struct{ slug, line string }{
		{"epsv-all-port", "PORT"},
		{"epsv-all-pasv", "PASV"},
		{"epsv-all-eprt", "EPRT"},
	} {
		rfc2428_3.It(c.slug, spec.MUST, "refuses "+c.line+" after EPSV ALL",
			spec.Quote(epsvAll).SharedBecause("one spec per command EPSV ALL rules out"), func(t *spec.T) {
				f := loggedIn(t)
				f.requireEPSV()
				f.must("EPSV ALL", 2)
				line := c.line
				ap := netip.AddrPortFrom(f.localIP(), 40000)
				switch c.line {
				case "PORT":
					line = "PORT " + hostPort(ap)
				case "EPRT":
					line = "EPRT " + eprtArg(ap)
				}
				r := f.cmd(line)
				if r.class() != 4 && r.class() != 5 {
					t.Mismatch(c.line+" refused (4yz or 5yz) after EPSV ALL", "%s", r)
				}
			})
	}

	rfc2428_3.It("epsv-all-epsv-works", spec.MUST, "keeps serving transfers over EPSV after EPSV ALL",
		spec.Quote(epsvAll).SharedBecause("the case EPSV ALL keeps: EPSV itself"), func(t *spec.T) {
			f := loggedIn(t)
			f.requireEPSV()
			path := f.scratch("epsv-all", []byte("still\n"))
			f.must("EPSV ALL", 2)
			f.must("TYPE I", 200)
			x := f.retrieve(viaEPSV, "RETR "+path)
			expectTransfer(t, "RETR over EPSV after EPSV ALL", x)
			t.Check(spec.Equal("the file", []byte("still\n"), x.data))
		})
})
