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
