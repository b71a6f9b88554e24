package ftp

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
)

func TestStallAndDataTimeouts(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.StallTimeout = 300 * time.Millisecond; s.DataTimeout = 300 * time.Millisecond })
	os.WriteFile(filepath.Join(e.root, fixture.AnonymousHome, "pub", "big.bin"), fixture.Pattern(32<<20), 0o644)
	c := e.connect(t)
	c.login(fixture.UserAnonymous, fixture.AnonymousPassword)
	// A data connection never opened: 425 after DataTimeout.
	c.expect(227, "PASV")
	c.send("RETR " + fixture.HelloFile + "\r\n")
	if r := c.read(); r.Code != 150 {
		t.Fatalf("RETR: %v", r)
	}
	if r := c.read(); r.Code != 425 {
		t.Errorf("no data connection: %v, want 425", r)
	}
	// A reader that stops reading: 426 after StallTimeout.
	open := c.pasv(true)
	c.send("RETR /pub/big.bin\r\n")
	if r := c.read(); r.Code != 150 {
		t.Fatalf("RETR: %v", r)
	}
	dc := open()
	io.ReadFull(dc, make([]byte, 100))
	if r := c.read(); r.Code != 426 {
		t.Errorf("stalled reader: %v, want 426", r)
	}
	c.expect(200, "NOOP")
}

func TestUploadLimit(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.MaxUploadBytes = 1000 })
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	c.expect(200, "TYPE", "I")
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/big.bin", fixture.Pattern(5000)); r.Code != 552 {
		t.Errorf("over the limit: %v, want 552", r)
	}
	if _, err := os.Stat(e.bobFile("upload/big.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an oversized upload left a file: %v", err)
	}
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/ok.bin", fixture.Pattern(1000)); r.Code != 226 {
		t.Errorf("at the limit: %v", r)
	}
	// REST beyond the end of the file: the STOR is 554 (RFC 3659 5.5).
	c.expect(350, "REST", "2000")
	c.expect(554, "STOR", "/upload/ok.bin")
}

func TestDroppedControlDuringUpload(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	open := c.pasv(true)
	c.send("STOR /upload/dropped.bin\r\n")
	if r := c.read(); r.Code != 150 {
		t.Fatalf("STOR: %v", r)
	}
	dc := open()
	dc.Write(fixture.Pattern(5000))
	c.c.Close()
	// The server notices the control connection gone and aborts; the
	// data connection is then closed by the server.
	dc.SetReadDeadline(time.Now().Add(testDeadline))
	io.Copy(io.Discard, dc)
	dc.Close()
	e.s.Close()
	if _, err := os.Stat(e.bobFile("upload/dropped.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dropped upload left a file: %v", err)
	}
	left, _ := filepath.Glob(e.bobFile("upload/" + tempPrefix + "*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestRestASCII(t *testing.T) {
	e := newEnv(t, nil)
	os.WriteFile(e.bobFile("upload/t.txt"), []byte("ab\ncd\n"), 0o644) // wire: ab\r\ncd\r\n
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	c.expect(200, "TYPE", "A")
	c.expect(350, "REST", "4")
	data, r := c.retr(c.pasv(true), nil, "RETR", "/upload/t.txt")
	if r.Code != 226 || string(data) != "cd\r\n" {
		t.Errorf("REST 4 RETR in A: %v %q", r, data)
	}
	c.expect(350, "REST", "3") // between the CR and the LF
	c.expect(554, "STOR", "/upload/t.txt")
	c.expect(350, "REST", "4")
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/t.txt", []byte("XY\r\n")); r.Code != 226 {
		t.Fatalf("REST 4 STOR in A: %v", r)
	}
	if got := readFile(t, e.bobFile("upload/t.txt")); string(got) != "ab\nXY\n" {
		t.Errorf("REST STOR in A left %q", got)
	}
	c.expect(450, "LIST", "/no/such")
	c.expect(450, "STAT", "/no/such")
}

func TestUploadQuota(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.MaxUploadFiles = 2; s.MaxUploadTotal = 3000 })
	c := e.connect(t)
	c.login(fixture.UserBob, fixture.PasswordBob)
	c.expect(200, "TYPE", "I")
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/a", fixture.Pattern(2000)); r.Code != 226 {
		t.Fatalf("first: %v", r)
	}
	// 1000 bytes of room left.
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/b", fixture.Pattern(2000)); r.Code != 552 {
		t.Errorf("over the total: %v", r)
	}
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/b", fixture.Pattern(500)); r.Code != 226 {
		t.Fatalf("second: %v", r)
	}
	if r := c.cmd("STOR", "/upload/c"); r.Code != 552 {
		t.Errorf("over the file count: %v", r)
	}
	c.expect(550, "MKD", "/upload/d")
	// Replacing a file is not a new one.
	if r := c.stor(c.pasv(true), nil, "STOR", "/upload/a", fixture.Pattern(2400)); r.Code != 226 {
		t.Errorf("replace: %v", r)
	}
}
