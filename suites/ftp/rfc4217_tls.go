package ftp

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc2228_3 = spec.Section(proto, "rfc2228", "3", "New FTP Commands")
	rfc4217_8 = spec.Section(proto, "rfc4217", "8", "Data Connection Behaviour")
	rfc4217_9 = spec.Section(proto, "rfc4217", "9", "Data Connection Security")
)

// Sentences several specs check one case of.
const (
	pbszOrder = "Specifically, the PROT command MUST be preceded by a PBSZ command and a PBSZ command MUST be preceded by a successful security data exchange (the TLS negotiation in this case)."
	protLevel = "For TLS, the data connection can have one of two security levels."
)

// authTLS upgrades the control connection with AUTH TLS, skipping the
// spec when the server does not offer TLS.
func (f *ftpc) authTLS() {
	if f.implicit {
		f.t.Skipf("not applicable: the control connection is TLS from its first byte")
	}
	f.t.Require(featureAuthTLS)
	r := f.cmd("AUTH TLS")
	switch r.code {
	case 500, 502, 504, 534, 431, 530:
		f.t.Skipf("not applicable: the server does not offer AUTH TLS (%d)", r.code)
	}
	expectCode(f.t, r, "the reply to AUTH TLS", 234)
	f.t.Check(f.c.StartTLS(f.tlsConfig()))
}

// secureSession is a control connection upgraded with AUTH TLS and
// logged in, with PBSZ 0 given.
func secureSession(t *spec.T) *ftpc {
	f := connect(t)
	f.authTLS()
	f.login(user, password)
	f.must("PBSZ 0", 200)
	return f
}

var _ = Describe("RFC 2228 and RFC 4217 TLS", func() {
	rfc2228_3.It("auth-tls-234", spec.MUST, "answers AUTH TLS with 234 and runs the TLS handshake",
		spec.Inferred("If the server is willing to accept the named security mechanism, and does not require any security data, it must respond with reply code 234.", "lower-case must in a Standards Track RFC of 1997"), func(t *spec.T) {
			f := connect(t)
			f.authTLS()
			f.login(user, password)
			f.must("PWD", 257)
		})

	rfc2228_3.It("auth-unknown-504", spec.SHOULD, "answers AUTH with an unknown mechanism with 504",
		spec.Inferred("If the server does not understand the named security mechanism, it should respond with reply code 504.", "lower-case should in a Standards Track RFC of 1997"), func(t *spec.T) {
			f := connect(t)
			if f.implicit {
				t.Skipf("not applicable: the control connection is TLS from its first byte")
			}
			r := f.cmd("AUTH PROTOSPEC-NO-SUCH-MECHANISM")
			if r.code == 500 || r.code == 502 || r.code == 530 {
				t.Skipf("not applicable: the server does not implement AUTH (%d)", r.code)
			}
			expectCode(t, r, "the reply to AUTH of an unknown mechanism", 504)
		})

	rfc4217_8.It("pbsz-needs-tls", spec.MUST, "refuses PBSZ before the TLS negotiation",
		spec.Quote(pbszOrder).SharedBecause("the PBSZ half; prot-needs-pbsz checks PROT's"), func(t *spec.T) {
			f := loggedIn(t)
			if f.prot {
				t.Skipf("not applicable: the control connection is TLS from its first byte")
			}
			r := f.cmd("PBSZ 0")
			if r.code == 500 || r.code == 502 {
				t.Skipf("not applicable: the server does not implement PBSZ (%d)", r.code)
			}
			expectCode(t, r, "the reply to PBSZ on a plain connection", 503, 5)
		})

	rfc4217_8.It("prot-needs-pbsz", spec.MUST, "refuses PROT before PBSZ",
		spec.Quote(pbszOrder).SharedBecause("the PROT half; pbsz-needs-tls checks PBSZ's"), func(t *spec.T) {
			f := connect(t)
			f.authTLS()
			f.login(user, password)
			expectCode(t, f.cmd("PROT P"), "the reply to PROT P without PBSZ", 503, 5)
		})

	rfc4217_8.It("pbsz-zero", spec.MUST, "accepts PBSZ 0 after AUTH TLS",
		spec.Inferred("Thus the PBSZ command must still be issued, but must have a parameter of '0' to indicate that no buffering is taking place and the data connection should not be encapsulated.", "lower-case must"), func(t *spec.T) {
			secureSession(t)
		})

	rfc4217_9.It("prot-p-retr", spec.MUST, "sends a file over a TLS data connection after PROT P",
		spec.Inferred(protLevel+" 1) Clear (requested by 'PROT C') 2) Private (requested by 'PROT P')", "RFC 4217 9 defines the levels without a key word; a server that accepts PROT P protects the data connection"), func(t *spec.T) {
			f := secureSession(t)
			f.must("PROT P", 200)
			f.prot = true
			data := binaryData(100000)
			path := f.scratch("prot-p", data)
			t.Check(spec.Equal("the file over TLS", data, f.getFile(path)))
		})

	rfc4217_9.It("prot-p-active", spec.MUST, "runs TLS on an active (PORT) data connection after PROT P, the client as TLS client",
		spec.Inferred(protLevel+" 1) Clear (requested by 'PROT C') 2) Private (requested by 'PROT P')", "RFC 4217 9 defines the levels without a key word").SharedBecause("the active-mode case"), func(t *spec.T) {
			f := secureSession(t)
			f.must("PROT P", 200)
			f.prot = true
			f.must("TYPE I", 200)
			path := uploadDir + "/" + unique("prot-p-active")
			expectTransfer(t, "STOR over PORT and TLS", f.store(viaPORT, "STOR "+path, []byte("secret\n")))
			x := f.retrieve(viaPORT, "RETR "+path)
			expectTransfer(t, "RETR over PORT and TLS", x)
			t.Check(spec.Equal("the file over PORT and TLS", []byte("secret\n"), x.data))
		})

	rfc4217_9.It("prot-p-never-clear", spec.MUST, "never sends a PROT P file in clear to a data connection that does no TLS",
		spec.Inferred(protLevel+" 1) Clear (requested by 'PROT C') 2) Private (requested by 'PROT P')", "RFC 4217 9: Private is TLS on the data connection").SharedBecause("the case of a client that skips the handshake"), func(t *spec.T) {
			f := secureSession(t)
			path := f.scratch("prot-p-clear", secret)
			f.must("PROT P", 200)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			f.send("RETR " + path)
			got, _, err := d.conn.ReadFor(d.conn.Scaled(3*quiet), 1<<20)
			t.Check(err)
			if bytes.Contains(got, secret[:20]) {
				t.Mismatch("no file bytes in clear after PROT P", "%s", spec.Excerpt(got, 100))
			}
			d.conn.Close()
		})

	rfc4217_9.It("prot-c-clear", spec.MUST, "sends a file in clear after PROT C",
		spec.Inferred(protLevel+" 1) Clear (requested by 'PROT C') 2) Private (requested by 'PROT P')", "RFC 4217 9 defines the levels without a key word").SharedBecause("the Clear level"), func(t *spec.T) {
			f := secureSession(t)
			f.must("PROT C", 200)
			f.prot = false
			data := []byte("in clear\n")
			path := f.scratch("prot-c", data)
			t.Check(spec.Equal("the file in clear", data, f.getFile(path)))
		})
})
