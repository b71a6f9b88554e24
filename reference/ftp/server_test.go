package ftp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

func TestLoginAndSequencing(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.expect(530, "PWD")
	c.expect(503, "PASS", "x")        // PASS without USER
	c.expect(503, "ACCT", "x")        // nothing to account for
	c.expect(500, "FROB")             // unknown verb
	c.expect(500, "RETRIEVE", "x")    // five letters
	c.expect(502, "SMNT", "/x")       // known, not implemented
	c.expect(211, "FEAT")             // before login
	c.expect(215, "SYST")             // RFC 959 5.4
	c.expect(331, "USER", "nobody")   // the same 331 for any name
	c.expect(530, "PASS", "whatever") // after LoginDelay
	c.expect(331, "USER", fixture.UserBob)
	c.expect(230, "PASS", fixture.PasswordBob)
	c.expect(202, "ACCT", "x")
	if r := c.expect(257, "PWD"); !strings.HasPrefix(r.Text(), `"/"`) {
		t.Errorf("PWD: %v", r)
	}
	c.expect(250, "CWD", "pub/nested")
	if r := c.expect(257, "PWD"); !strings.HasPrefix(r.Text(), `"/pub/nested"`) {
		t.Errorf("PWD: %v", r)
	}
	c.expect(200, "CDUP")
	c.expect(550, "CWD", "no-such-dir")
	c.expect(503, "RNTO", "x") // RNTO without RNFR
	c.expect(501, "NOOP", "x") // NOOP takes no argument
	c.expect(501, "CWD")       // CWD needs one
	c.expect(200, "TYPE", "I")
	c.expect(200, "TYPE", "a")
	c.expect(504, "TYPE", "E")
	c.expect(501, "TYPE", "Q")
	c.expect(200, "MODE", "S")
	c.expect(504, "MODE", "B")
	c.expect(504, "MODE", "C")
	c.expect(200, "STRU", "F")
	c.expect(504, "STRU", "R")
	c.expect(350, "REST", "10")
	c.expect(501, "REST", "-1")
	c.expect(214, "HELP")
	c.expect(200, "NOOP")
	c.expect(211, "STAT")
	c.expect(202, "ALLO", "100")
	c.expect(200, "OPTS", "UTF8 ON")
	c.expect(501, "OPTS", "BOGUS")
	c.expect(221, "QUIT")
}

func TestLineDiscipline(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.send("NOOP\n")
	if r := c.read(); r.Code != 500 {
		t.Errorf("bare LF: %v", r)
	}
	c.send("NOOP " + strings.Repeat("x", 2000) + "\r\n")
	if r := c.read(); r.Code != 500 {
		t.Errorf("long line: %v", r)
	}
	c.expect(200, "NOOP") // the session goes on
	c.send("noop\r\n")
	if r := c.read(); r.Code != 200 {
		t.Errorf("lower case: %v", r)
	}
	// Telnet IP and DM before a command are dropped.
	c.send("\xff\xf4\xff\xf2NOOP\r\n")
	if r := c.read(); r.Code != 200 {
		t.Errorf("telnet IP DM: %v", r)
	}
}

func TestFailedLoginsClose(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	for i := 0; i < maxFailedLogins-1; i++ {
		c.expect(331, "USER", fixture.UserBob)
		c.expect(530, "PASS", fixture.BadPassword)
	}
	c.expect(331, "USER", fixture.UserBob)
	c.expect(421, "PASS", fixture.BadPassword)
	if _, err := c.br.ReadByte(); err == nil {
		t.Errorf("connection still open after %d failures", maxFailedLogins)
	}
}

func TestLoginDelayDefault(t *testing.T) {
	if (&Server{}).loginDelay() <= 0 {
		t.Errorf("no default delay after a failed PASS")
	}
	if (&Server{LoginDelay: -1}).loginDelay() != 0 {
		t.Errorf("negative LoginDelay is not none")
	}
}

func TestRetrieve(t *testing.T) {
	e := newEnv(t, nil)
	for _, mode := range []string{"pasv", "epsv", "port", "eprt"} {
		t.Run(mode, func(t *testing.T) {
			c := e.connect(t)
			c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
			open := func() func() net.Conn {
				switch mode {
				case "pasv":
					return c.pasv(false)
				case "epsv":
					return c.pasv(true)
				case "port":
					return c.active(false)
				}
				return c.active(true)
			}
			c.expect(200, "TYPE", "I")
			data, r := c.retr(open(), nil, "RETR", fixture.BinaryFile)
			if r.Code != 226 || !bytes.Equal(data, fixture.Pattern(65536)) {
				t.Fatalf("RETR binary: %v, %d bytes", r, len(data))
			}
			c.expect(200, "TYPE", "A")
			data, r = c.retr(open(), nil, "RETR", fixture.TextFile)
			want := strings.ReplaceAll(fixture.TextContent, "\n", "\r\n")
			if r.Code != 226 || string(data) != want {
				t.Fatalf("RETR ascii: %v %q", r, data)
			}
			if r := c.expect(213, "SIZE", fixture.TextFile); r.Text() != itoa(len(want)) {
				t.Errorf("SIZE in A: %v, want %d", r, len(want))
			}
			c.expect(200, "TYPE", "I")
			if r := c.expect(213, "SIZE", fixture.TextFile); r.Text() != itoa(len(fixture.TextContent)) {
				t.Errorf("SIZE in I: %v", r)
			}
			c.expect(350, "REST", "1000")
			data, r = c.retr(open(), nil, "RETR", fixture.BinaryFile)
			if r.Code != 226 || !bytes.Equal(data, fixture.Pattern(65536)[1000:]) {
				t.Fatalf("REST RETR: %v, %d bytes", r, len(data))
			}
			data, r = c.retr(open(), nil, "RETR", fixture.UTF8File)
			if r.Code != 226 || len(data) == 0 {
				t.Fatalf("RETR UTF-8 name: %v", r)
			}
			if r := c.cmd("RETR", fixture.Missing); r.Code != 550 {
				t.Errorf("RETR missing: %v", r)
			}
			if r := c.cmd("RETR", fixture.HelloFile); r.Code != 425 {
				t.Errorf("RETR without PORT/PASV: %v", r)
			}
			if r := c.expect(213, "MDTM", fixture.HelloFile); r.Text() != "20240102030405" {
				t.Errorf("MDTM: %v", r)
			}
		})
	}
}

func TestListings(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	data, r := c.retr(c.pasv(true), nil, "NLST", fixture.PubDir)
	if r.Code != 226 || !strings.Contains(string(data), "hello.txt\r\n") || strings.Contains(string(data), " ") && !strings.Contains(string(data), "grüße") {
		t.Errorf("NLST: %v %q", r, data)
	}
	data, r = c.retr(c.pasv(true), nil, "LIST", "-la "+fixture.PubDir)
	if r.Code != 226 || !strings.Contains(string(data), "drwxr-xr-x") || !strings.Contains(string(data), " hello.txt\r\n") {
		t.Errorf("LIST: %v %q", r, data)
	}
	data, r = c.retr(c.pasv(true), nil, "MLSD", fixture.PubDir)
	if r.Code != 226 || !strings.Contains(string(data), "type=file;size=12;modify=20240102030405;perm=r; hello.txt\r\n") || !strings.Contains(string(data), "type=cdir;") {
		t.Errorf("MLSD: %v %q", r, data)
	}
	if r := c.cmd("MLSD", fixture.HelloFile); r.Code != 501 {
		t.Errorf("MLSD of a file: %v", r)
	}
	r = c.expect(250, "MLST", fixture.HelloFile)
	if len(r.Lines) != 3 || r.Lines[1] != " type=file;size=12;modify=20240102030405;perm=r; "+fixture.HelloFile {
		t.Errorf("MLST: %q", r.Lines)
	}
	r = c.expect(212, "STAT", fixture.PubDir)
	if !strings.Contains(r.Text(), "hello.txt") {
		t.Errorf("STAT dir: %v", r.Text())
	}
	c.expect(200, "OPTS", "MLST type;size;")
	r = c.expect(250, "MLST", fixture.HelloFile)
	if r.Lines[1] != " type=file;size=12; "+fixture.HelloFile {
		t.Errorf("MLST after OPTS: %q", r.Lines)
	}
}

func TestStore(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	c.expect(200, "TYPE", "I")
	payload := fixture.Pattern(200000)
	if r := c.stor(c.pasv(false), nil, "STOR", "/upload/a.bin", payload); r.Code != 226 {
		t.Fatalf("STOR: %v", r)
	}
	if got := readFile(t, e.bobFile("upload/a.bin")); !bytes.Equal(got, payload) {
		t.Errorf("stored %d bytes, want %d", len(got), len(payload))
	}
	data, r := c.retr(c.pasv(true), nil, "RETR", "/upload/a.bin")
	if r.Code != 226 || !bytes.Equal(data, payload) {
		t.Errorf("RETR back: %v", r)
	}
	if r := c.stor(c.active(false), nil, "APPE", "/upload/a.bin", []byte("tail")); r.Code != 226 {
		t.Fatalf("APPE: %v", r)
	}
	if got := readFile(t, e.bobFile("upload/a.bin")); !bytes.Equal(got, append(append([]byte{}, payload...), "tail"...)) {
		t.Errorf("APPE left %d bytes", len(got))
	}
	// REST+STOR: keep 1000 bytes, then the new data.
	c.expect(350, "REST", "1000")
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/a.bin", []byte("resumed")); r.Code != 226 {
		t.Fatalf("REST STOR: %v", r)
	}
	if got := readFile(t, e.bobFile("upload/a.bin")); !bytes.Equal(got, append(append([]byte{}, payload[:1000]...), "resumed"...)) {
		t.Errorf("REST STOR left %d bytes", len(got))
	}
	// TYPE A: CRLF on the wire, LF on disk.
	c.expect(200, "TYPE", "A")
	if r := c.stor(c.pasv(true), nil, "STOR", "upload/t.txt", []byte("a\r\nb\r\n")); r.Code != 226 {
		t.Fatalf("STOR A: %v", r)
	}
	if got := readFile(t, e.bobFile("upload/t.txt")); string(got) != "a\nb\n" {
		t.Errorf("TYPE A stored %q", got)
	}
	c.expect(200, "TYPE", "I")
	c.expect(250, "CWD", fixture.UploadDir)
	r = c.stor(c.pasv(true), nil, "STOU", "", []byte("unique"))
	if r.Code != 226 || !strings.Contains(r.Text(), "stou-") {
		t.Fatalf("STOU: %v", r)
	}
	c.expect(257, "MKD", "d")
	c.expect(350, "RNFR", "t.txt")
	c.expect(250, "RNTO", "d/t2.txt")
	c.expect(550, "RMD", "d")
	c.expect(250, "DELE", "d/t2.txt")
	c.expect(250, "RMD", "d")
	// Outside /upload, bob may not write.
	if r := c.cmd("STOR", fixture.HelloFile); r.Code != 553 {
		t.Errorf("STOR outside upload: %v", r)
	}
	c.expect(550, "DELE", fixture.HelloFile)
	c.expect(550, "MKD", "/pub/x")
	c.expect(550, "RMD", fixture.UploadDir)
	// No temporary file is left anywhere.
	left, _ := filepath.Glob(e.bobFile("upload/" + tempPrefix + "*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestAnonymousReadOnly(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserFTP, "")
	for _, v := range []string{"STOR", "APPE"} {
		if r := c.cmd(v, "/pub/new.txt"); r.Code != 553 {
			t.Errorf("anonymous %s: %v", v, r)
		}
	}
	if r := c.cmd("STOU"); r.Code != 553 {
		t.Errorf("anonymous STOU: %v", r)
	}
	for _, v := range []string{"MKD", "RMD", "DELE", "RNFR"} {
		if r := c.cmd(v, fixture.HelloFile); r.Code != 550 {
			t.Errorf("anonymous %s: %v", v, r)
		}
	}
}

func TestPathEscape(t *testing.T) {
	e := newEnv(t, nil)
	outside := filepath.Join(e.root, "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(e.root, fixture.AnonymousHome, "pub", "link.txt"))
	os.Symlink(e.root, filepath.Join(e.root, fixture.AnonymousHome, "pub", "linkdir"))
	c := e.connect(t)
	c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
	c.expect(250, "CWD", "../../../..")
	if r := c.expect(257, "PWD"); !strings.HasPrefix(r.Text(), `"/"`) {
		t.Errorf("PWD after ..: %v", r)
	}
	for _, p := range []string{"../secret.txt", "/../secret.txt", "~/../secret.txt", "/pub/link.txt", "/pub/linkdir/secret.txt", "../bob/pub/hello.txt", "~bob/pub/hello.txt"} {
		if r := c.cmd("RETR", p); r.Code != 550 {
			t.Errorf("RETR %s: %v", p, r)
		}
	}
	c.expect(550, "CWD", "/pub/linkdir")
	c.expect(250, "CWD", "~")
	if r := c.cmd("SIZE", "~/pub/hello.txt"); r.Code != 213 {
		t.Errorf("SIZE ~/pub/hello.txt: %v", r)
	}
}

func TestBounce(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
	c.expect(504, "PORT", "127,0,0,2,200,10") // another address
	c.expect(504, "PORT", "127,0,0,1,0,21")   // a privileged port
	c.expect(504, "EPRT", "|1|127.0.0.2|51210|")
	c.expect(501, "PORT", "127,0,0,1,200")
	c.expect(522, "EPRT", "|3|x|1|")
	c.expect(522, "EPRT", "|2|::1|51210|") // not the control connection's family
	c.expect(522, "EPSV", "2")
	c.expect(200, "EPSV", "ALL")
	c.expect(503, "PASV")
	c.expect(503, "PORT", "127,0,0,1,200,10")
	c.expect(503, "EPRT", "|1|127.0.0.1|51210|")
	c.expect(229, "EPSV")
}

func TestPassivePortTheft(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
	c.expect(200, "TYPE", "I")
	r := c.expect(227, "PASV")
	ap, _ := ftpwire.ParsePASV(r.Text())
	c.send("RETR " + fixture.HelloFile + "\r\n")
	if r := c.read(); r.Code != 150 {
		t.Fatalf("RETR: %v", r)
	}
	// A thief from another loopback address is closed without data.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: testDeadline}
	thief, err := d.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	thief.SetDeadline(time.Now().Add(testDeadline))
	if b, _ := io.ReadAll(thief); len(b) != 0 {
		t.Errorf("the thief got %q", b)
	}
	thief.Close()
	// The client itself still gets the file.
	dc := dialRaw(t, ap.String())
	data, _ := io.ReadAll(dc)
	if string(data) != "Hello, FTP!\n" {
		t.Errorf("the client got %q", data)
	}
	if r := c.read(); r.Code != 226 {
		t.Errorf("after RETR: %v", r)
	}
}

func TestAbortAndStatDuringTransfer(t *testing.T) {
	e := newEnv(t, nil)
	big := fixture.Pattern(32 << 20)
	os.WriteFile(filepath.Join(e.root, fixture.AnonymousHome, "pub", "big.bin"), big, 0o644)
	c := e.connect(t)
	c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
	open := c.pasv(true)
	c.send("RETR /pub/big.bin\r\n")
	if r := c.read(); r.Code != 150 {
		t.Fatalf("RETR: %v", r)
	}
	dc := open()
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(dc, buf); err != nil {
		t.Fatal(err)
	}
	// Not reading on: the server blocks on a full socket buffer.
	if r := c.cmd("STAT"); r.Code != 213 || !strings.Contains(r.Text(), "bytes transferred") {
		t.Errorf("STAT during RETR: %v", r)
	}
	c.expect(503, "PWD")
	c.send("\xff\xf4\xff\xf2ABOR\r\n")
	if r := c.read(); r.Code != 426 {
		t.Errorf("transfer reply after ABOR: %v, want 426", r)
	}
	if r := c.read(); r.Code != 226 {
		t.Errorf("ABOR reply: %v, want 226", r)
	}
	c.expect(200, "NOOP")
}

func TestAbortedUploadLeavesNoFile(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	os.WriteFile(e.bobFile("upload/keep.bin"), []byte("old content"), 0o644)
	for _, name := range []string{"/upload/partial.bin", "/upload/keep.bin"} {
		open := c.pasv(true)
		c.send("STOR " + name + "\r\n")
		if r := c.read(); r.Code != 150 {
			t.Fatalf("STOR: %v", r)
		}
		dc := open()
		dc.Write(fixture.Pattern(10000))
		c.send("ABOR\r\n")
		if r := c.read(); r.Code != 426 {
			t.Errorf("transfer reply after ABOR: %v", r)
		}
		if r := c.read(); r.Code != 226 {
			t.Errorf("ABOR reply: %v", r)
		}
	}
	if _, err := os.Stat(e.bobFile("upload/partial.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an aborted upload left a file: %v", err)
	}
	if got := readFile(t, e.bobFile("upload/keep.bin")); string(got) != "old content" {
		t.Errorf("an aborted upload changed the old file: %q", got)
	}
	left, _ := filepath.Glob(e.bobFile("upload/" + tempPrefix + "*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestTLS(t *testing.T) {
	e := newEnv(t, nil)
	wrap := e.tlsClient(t)
	t.Run("auth-tls", func(t *testing.T) {
		c := e.connect(t)
		c.expect(503, "PBSZ", "0")
		c.expect(504, "AUTH", "SSL")
		c.expect(234, "AUTH", "TLS")
		c.c = wrap(c.c)
		c.br.Reset(c.c)
		c.expect(503, "PROT", "P")
		c.expect(200, "PBSZ", "0")
		c.expect(536, "PROT", "S")
		c.expect(200, "PROT", "P")
		c.login(fixture.UserBob, fixture.PasswordBob)
		c.expect(200, "TYPE", "I")
		data, r := c.retr(c.pasv(true), wrap, "RETR", fixture.HelloFile)
		if r.Code != 226 || string(data) != "Hello, FTP!\n" {
			t.Fatalf("RETR over TLS: %v %q", r, data)
		}
		if r := c.stor(c.active(true), wrap, "STOR", "/upload/tls.txt", []byte("private")); r.Code != 226 {
			t.Fatalf("STOR over TLS: %v", r)
		}
		if got := readFile(t, e.bobFile("upload/tls.txt")); string(got) != "private" {
			t.Errorf("stored %q", got)
		}
		c.expect(503, "AUTH", "TLS")
		c.expect(200, "PROT", "C")
		data, r = c.retr(c.pasv(true), nil, "RETR", fixture.HelloFile)
		if r.Code != 226 || string(data) != "Hello, FTP!\n" {
			t.Fatalf("RETR clear: %v", r)
		}
	})
	t.Run("implicit", func(t *testing.T) {
		c := greet(t, wrap(dialRaw(t, e.tls)), 220)
		c.expect(200, "PBSZ", "0")
		c.expect(200, "PROT", "P")
		c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
		c.expect(200, "TYPE", "I")
		data, r := c.retr(c.pasv(false), wrap, "RETR", fixture.HelloFile)
		if r.Code != 226 || string(data) != "Hello, FTP!\n" {
			t.Fatalf("RETR implicit: %v", r)
		}
	})
}

func TestIPv6(t *testing.T) {
	e := newEnv(t, nil)
	if e.v6 == "" {
		t.Skip("no ::1")
	}
	c := greet(t, dialRaw(t, e.v6), 220)
	c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
	c.expect(200, "TYPE", "I")
	c.expect(501, "PASV")
	data, r := c.retr(c.pasv(true), nil, "RETR", fixture.HelloFile)
	if r.Code != 226 || string(data) != "Hello, FTP!\n" {
		t.Fatalf("EPSV on ::1: %v", r)
	}
	data, r = c.retr(c.active(true), nil, "RETR", fixture.HelloFile)
	if r.Code != 226 || string(data) != "Hello, FTP!\n" {
		t.Fatalf("EPRT on ::1: %v", r)
	}
	c.expect(522, "EPRT", "|1|127.0.0.1|51210|")
}

func TestHost(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.expect(504, "HOST", "example.com")
	c.expect(220, "HOST", "localhost")
	c.login(fixture.UserBob, fixture.PasswordBob)
	c.expect(503, "HOST", "localhost")
}

func TestLimits(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.MaxConnsPerClient = 1; s.IdleTimeout = 300 * time.Millisecond })
	c := e.connect(t)
	greet(t, dialRaw(t, e.addr), 421)
	// The first session idles out with 421.
	if r := c.read(); r.Code != 421 {
		t.Errorf("idle: %v", r)
	}
}

func TestCloseSends421(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	go e.s.Close()
	if r := c.read(); r.Code != 421 {
		t.Errorf("on Close: %v", r)
	}
}
