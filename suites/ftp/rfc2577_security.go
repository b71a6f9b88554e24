package ftp

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc2577_3 = spec.Section(proto, "rfc2577", "3", "Protecting Against the Bounce Attack")
	rfc2577_4 = spec.Section(proto, "rfc2577", "4", "Restricted Access")
	rfc2577_5 = spec.Section(proto, "rfc2577", "5", "Protecting Passwords")
	rfc2577_7 = spec.Section(proto, "rfc2577", "7", "Protecting Usernames")
	rfc2577_9 = spec.Section(proto, "rfc2577", "9", "Software-Base Security Problems")
)

// informational says why a sentence of RFC 2577 (an Informational RFC
// that "suggests") is a SHOULD.
const informational = "RFC 2577 is Informational and words its advice as suggestions: a SHOULD"

// Sentences several specs check one case of.
const (
	bounceSentence    = "Instructing a third party to connect to the service, rather than connecting directly, makes tracking down the perpetrator difficult and can circumvent network-address-based access restrictions."
	restrictSentence  = "By checking both connections, a server is protected against the case when the control connection is established with a trusted host and the data connection is not."
	anonymousSentence = "Security problems arise when such a user can read all files on the system or can create files."
)

// secret is what a stolen data connection would carry.
var secret = []byte("protospec secret: only the control connection's client may read this\n")

// thirdParty returns a loopback address other than the control
// connection's client, skipping the spec on IPv6 (one loopback address).
func thirdParty(f *ftpc) string {
	other, ok := otherLoopback(f.localIP())
	if !ok {
		f.t.Skipf("not applicable: the control connection is IPv6, whose loopback is one address: no third party on this machine")
	}
	return other
}

// bounce asks the server to send a listing to a third party's listener
// with line (PORT or EPRT of addr), and fails if the third party gets a
// connection.
func bounce(t *spec.T, f *ftpc, ln *spec.Listener, line string) {
	r := f.cmd(line)
	if strings.HasPrefix(line, "EPRT") && (r.code == 502 || r.code == 500 && !f.lists("EPRT")) {
		t.Skipf("not applicable: the server does not implement EPRT (%d)", r.code)
	}
	if r.class() == 2 {
		f.must("TYPE A", 200)
		f.send("LIST")
		r2 := f.read()
		if r2.class() == 1 {
			r2 = f.read()
		}
		if err := ln.ExpectNoConnection(t.Scaled(3 * quiet)); err != nil {
			t.Mismatch("no connection to the third party "+ln.Addr(), "%v (PORT answered %s, LIST %s)", err, r, r2)
		}
		expectCode(t, r2, "the reply to LIST towards a third party", 4, 5)
		return
	}
	expectCode(t, r, "the reply to "+strings.Fields(line)[0]+" naming a third party", 4, 5)
	t.Check(ln.ExpectNoConnection(t.Scaled(quiet)))
}

// steal opens a passive data port, connects to it from another loopback
// address first, then lets the client connect, and checks that the thief
// got none of the file (download) or that its bytes did not become the
// file (upload).
func steal(t *spec.T, kind dataKind, upload bool) {
	f := loggedIn(t)
	if f.prot {
		t.Skipf("not applicable over TLS: the data connections are protected by PROT P")
	}
	thief := thirdParty(f)
	path := f.scratch("theft", secret)
	f.must("TYPE I", 200)
	var addr string
	if kind == viaEPSV {
		r := f.requireCommand("EPSV")
		expectCode(t, r, "the reply to EPSV", 229)
		p, err := parseEPSV(r.text())
		t.Check(err)
		addr = netip.AddrPortFrom(f.serverIP(), uint16(p)).String()
	} else {
		r := f.must("PASV", 227)
		ap, err := parsePASV(r.text())
		t.Check(err)
		addr = ap.String()
	}
	tc, terr := t.DialAddr(service, addr, thief)
	if terr == nil && upload {
		_ = tc.TrySend("FORGED BY A THIEF\n")
		_ = tc.CloseWrite()
	}
	line := "RETR " + path
	var forged []byte
	if upload {
		forged = []byte("the client's own upload\n")
		line = "STOR " + path
	}
	f.send(line)
	c, cerr := t.DialAddr(service, addr, "")
	r := f.read()
	var stolen []byte
	if r.class() == 1 {
		if upload && cerr == nil {
			_ = c.TrySend(forged)
			_ = c.CloseWrite()
		}
		// Read both connections before the final reply: a server may
		// wait for the client's close before it sends it.
		if terr == nil && !upload {
			stolen, _, _ = tc.ReadFor(t.Scaled(quiet), 1<<20)
		}
		if terr == nil {
			tc.Close()
		}
		if cerr == nil {
			if !upload {
				_, _, _ = c.ReadFor(t.Scaled(quiet), 1<<20)
			}
			c.Close()
		}
		r = f.read()
	}
	expectCode(t, r, "the reply to "+strings.Fields(line)[0], 2, 4, 5)
	if bytes.Contains(stolen, secret[:20]) {
		t.Mismatch("no file data for a connection from "+thief+" (the control connection is from "+f.localIP().String()+")", "the thief read %s", spec.Excerpt(stolen, 100))
	}
	if upload {
		stored := f.getFile(path)
		if bytes.Contains(stored, []byte("FORGED")) {
			t.Mismatch("the file free of the thief's bytes", "%s", spec.Excerpt(stored, 100))
		}
	}
}

var _ = Describe("RFC 2577 FTP security", func() {
	rfc2577_3.It("no-bounce-port", spec.SHOULD, "does not connect to a third party's address named by PORT",
		spec.Inferred(bounceSentence, informational+"; section 3 protects against it"), func(t *spec.T) {
			f := loggedIn(t)
			ln, err := t.Listen(service, thirdParty(f))
			t.Check(err)
			ap, _ := netip.ParseAddrPort(ln.Addr())
			bounce(t, f, ln, "PORT "+hostPort(ap))
		})

	rfc2577_3.It("no-bounce-eprt", spec.SHOULD, "does not connect to a third party's address named by EPRT",
		spec.Inferred(bounceSentence, informational+"; section 3 protects against it").SharedBecause("the EPRT case; no-bounce-port checks PORT"), func(t *spec.T) {
			f := loggedIn(t)
			ln, err := t.Listen(service, thirdParty(f))
			t.Check(err)
			ap, _ := netip.ParseAddrPort(ln.Addr())
			bounce(t, f, ln, "EPRT "+eprtArg(ap))
		})

	rfc2577_3.It("no-privileged-port", spec.SHOULD, "does not connect to a port under 1024 named by PORT (504 suggested)",
		spec.Inferred("To avoid such bounce attacks, it is suggested that servers not open data connections to TCP ports less than 1024.", informational), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("PORT " + hostPortOf(f, 25))
			if r.class() != 2 {
				expectCode(t, r, "the reply to PORT naming port 25", 4, 5)
				return
			}
			f.must("TYPE A", 200)
			r2 := f.cmd("LIST")
			if r2.class() == 1 || r2.code == 425 {
				if r2.class() == 1 {
					f.read()
				}
				t.Mismatch("PORT to port 25 refused, or no attempt to connect there", "PORT %s, then LIST %s", r, r2)
			}
		})

	rfc2577_4.It("passive-peer-checked", spec.SHOULD, "sends a file over PASV only to the control connection's host, not to a thief connecting first",
		spec.Inferred(restrictSentence, informational+"; section 8 (port stealing) is the attack"), func(t *spec.T) {
			steal(t, viaPASV, false)
		})

	rfc2577_4.It("passive-peer-checked-epsv", spec.SHOULD, "sends a file over EPSV only to the control connection's host, not to a thief connecting first",
		spec.Inferred(restrictSentence, informational+"; section 8 (port stealing) is the attack").SharedBecause("the EPSV case"), func(t *spec.T) {
			steal(t, viaEPSV, false)
		})

	rfc2577_4.It("passive-upload-peer-checked", spec.SHOULD, "stores over PASV only what the control connection's host sends, not a thief's forged file",
		spec.Inferred(restrictSentence, informational+"; section 8: an attacker \"can insert a forged file\"").SharedBecause("the upload case"), func(t *spec.T) {
			steal(t, viaPASV, true)
		})

	rfc2577_5.It("wrong-password-delay", spec.SHOULD, "delays its answer to a wrong PASS (by 400 ms at least)",
		spec.Inferred(`In addition, it is suggested that the server impose a 5 second delay before replying to an invalid "PASS" command to diminish the efficiency of a brute force attack.`, informational+"; the suite asks for a delay of 400 ms, not the five seconds suggested"), func(t *spec.T) {
			f := connect(t)
			if f.cmd("USER "+user).code != 331 {
				t.Skipf("not applicable: USER did not ask for a password")
			}
			start := time.Now()
			r, err := f.tryCmd("PASS " + wrongPass)
			took := time.Since(start)
			t.Check(err)
			expectCode(t, r, "the reply to a wrong PASS", 530, 421)
			if took < 400*time.Millisecond {
				t.Mismatch("a wrong PASS answered after a delay of at least 400ms", "answered after %v", took.Round(time.Millisecond))
			}
		}, SpecTimeout(2*time.Minute))

	rfc2577_5.It("closes-after-failed-passwords", spec.SHOULD, "closes the control connection after a few failed passwords (3 to 5)",
		spec.Inferred("After a small number of attempts (3-5), the server should close the control connection with the client.", informational), func(t *spec.T) {
			f := connect(t)
			failed := 0
			closedAfter := func() {
				if failed == 0 {
					t.Mismatch("a close after failed passwords", "the connection closed before any PASS was refused")
				}
			}
			for i := 0; i < 6; i++ {
				r, err := f.tryCmd("USER " + user)
				if err != nil {
					closedAfter()
					return
				}
				if r.code == 421 {
					closedAfter()
					t.Check(f.c.ExpectClosed(t.StepTimeout()))
					return
				}
				r, err = f.tryCmd("PASS " + wrongPass)
				if err != nil {
					closedAfter()
					return
				}
				switch r.code {
				case 421:
					closedAfter()
					t.Check(f.c.ExpectClosed(t.StepTimeout()))
					return
				case 530:
					failed++
				default:
					t.Mismatch("530 to a wrong password", "%s", r)
				}
			}
			t.Mismatch("the connection closed within 5 failed passwords", "still open after 6")
		}, SpecTimeout(5*time.Minute))

	rfc2577_5.It("421-before-close", spec.MUST, "sends 421 before it closes the connection of a password guesser",
		spec.Inferred(`Before closing the control connection the server must send a return code of 421 ("Service not available, closing control connection." [PR85]) to the client.`, "lower-case must: the one requirement of the section that is no suggestion"), func(t *spec.T) {
			f := connect(t)
			var last reply
			for i := 0; i < 6; i++ {
				for _, line := range []string{"USER " + user, "PASS " + wrongPass} {
					r, err := f.tryCmd(line)
					if err != nil {
						if last.code == 0 {
							t.Check(err)
						}
						expectCode(t, last, "the last reply before the close", 421)
						return
					}
					last = r
					if r.code == 421 {
						t.Check(f.c.ExpectClosed(t.StepTimeout()))
						return
					}
				}
			}
			t.Skipf("not applicable: the server kept the connection open after 6 failed passwords")
		}, SpecTimeout(5*time.Minute))

	rfc2577_7.It("user-always-331", spec.SHOULD, "answers USER of an unknown user with 331, as for a known one",
		spec.Inferred("In order to prevent a malicious client from determining valid usernames on a server, it is suggested that a server always return 331 to the USER command and then reject the combination of username and password for an invalid username.", informational), func(t *spec.T) {
			f := connect(t)
			f.must("USER "+unique("nosuchuser"), 331)
			f.mustSlow("PASS "+wrongPass, 530)
		})

	for _, c := range []struct{ slug, title, line string }{
		{"anonymous-no-stor", "refuses an anonymous STOR", "STOR " + publicDir + "/x"},
		{"anonymous-no-mkd", "refuses an anonymous MKD", "MKD " + publicDir + "/x"},
		{"anonymous-no-dele", "refuses an anonymous DELE of a public file", "DELE"},
	} {
		rfc2577_9.It(c.slug, spec.SHOULD, c.title,
			spec.Inferred(anonymousSentence, informational+"; the fixture's anonymous area is read-only").SharedBecause("one spec per write command"), func(t *spec.T) {
				f := anonymous(t)
				line := c.line
				if line == "DELE" {
					f.must("TYPE A", 200)
					x := f.retrieve(viaPASV, "NLST "+publicDir)
					expectTransfer(t, "NLST "+publicDir, x)
					names := splitLines(x.data)
					if len(names) == 0 {
						t.Failf("the fixture's %s/ is empty (protospec fixtures ftp)", publicDir)
					}
					target := basename(names[0])
					for _, n := range names {
						if strings.Contains(basename(n), ".") {
							target = basename(n) // a file, not a directory
							break
						}
					}
					line = "DELE " + publicDir + "/" + target
				}
				if strings.HasPrefix(line, "STOR") {
					x := f.store(viaPASV, line, []byte("anonymous\n"))
					if x.ok() {
						t.Mismatch("the anonymous STOR refused", "%s", x)
					}
					return
				}
				expectCode(t, f.cmd(line), "the reply to an anonymous "+strings.Fields(line)[0], 4, 5)
			})
	}

	rfc2577_9.It("anonymous-reads-public", spec.FIXTURE, "lets anonymous users list and retrieve the public area",
		spec.Fixture("The fixture's anonymous user reads pub/: NLST pub lists its files and RETR sends them."), func(t *spec.T) {
			f := anonymous(t)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "NLST "+publicDir)
			expectTransfer(t, "NLST "+publicDir, x)
			names := splitLines(x.data)
			f.must("TYPE I", 200)
			for _, n := range names {
				// NLST names directories too: the first name RETR
				// sends is the file the spec wanted.
				if y := f.retrieve(viaPASV, "RETR "+publicDir+"/"+basename(n)); y.ok() {
					return
				}
			}
			t.Mismatch("a file of "+publicDir+" retrieved anonymously", "none of %d names: %q", len(names), names)
		})

	for _, c := range []struct{ slug, title, path string }{
		{"no-dotdot-escape", "serves nothing outside the user's tree through ..", "../../../../../../../../etc/passwd"},
		{"no-absolute-escape", "serves nothing outside the user's tree through an absolute path", "/etc/passwd"},
		{"no-tilde-escape", "serves nothing outside the user's tree through ~", "~root/../../../../etc/passwd"},
		{"no-dotdot-in-middle", "serves nothing outside the user's tree through a/../..", uploadDir + "/../../../../../../etc/passwd"},
	} {
		rfc2577_9.It(c.slug, spec.SHOULD, c.title,
			spec.Inferred(anonymousSentence, informational+"; every user's reach stops at its own tree").SharedBecause("one spec per path that tries to leave the tree"), func(t *spec.T) {
				f := loggedIn(t)
				f.must("TYPE I", 200)
				x := f.retrieve(viaPASV, "RETR "+c.path)
				if x.ok() && bytes.Contains(x.data, []byte("root:")) {
					t.Mismatch("no file from outside the user's tree", "RETR %s sent %s", c.path, spec.Excerpt(x.data, 100))
				}
				expectCode(t, x.final, "the reply to RETR "+c.path, 2, 4, 5)
				f.must("CWD /", 250, 550)
				f.must("CDUP", 200, 250, 550)
				dir, _ := quoted(f.must("PWD", 257))
				if dir != "/" && !strings.HasPrefix(dir, "/") {
					t.Mismatch("a PWD inside the tree", "%q", dir)
				}
			})
	}

	rfc2577_9.It("no-stor-escape", spec.SHOULD, "stores nothing outside the user's tree through ..",
		spec.Inferred(anonymousSentence, informational+"; every user's reach stops at its own tree").SharedBecause("the upload case of the escapes"), func(t *spec.T) {
			f := loggedIn(t)
			name := unique("protospec-escape")
			f.must("TYPE I", 200)
			f.store(viaPASV, "STOR "+uploadDir+"/../../../../../../../../tmp/"+name, []byte("escaped\n"))
			if _, err := os.Stat(filepath.Join(os.TempDir(), name)); err == nil {
				os.Remove(filepath.Join(os.TempDir(), name))
				t.Mismatch("no file written outside the tree", "/tmp/%s was written", name)
			}
			f.must("NOOP", 200)
		})
})
