package ftp

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
)

func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"USER bob\r\n", "\xff\xf4\xff\xf2ABOR\r\n", "STOR a\r\x00b\r\n", "noop\n", "\xff\xff\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		verb, arg, _, problem := parseCommand(stripTelnet(line))
		if problem == "" && (len(verb) < 3 || len(verb) > 4 || bytes.ContainsAny([]byte(arg), "\r\n\x00")) {
			t.Fatalf("%q accepted as %q %q", line, verb, arg)
		}
	})
}

// FuzzSession drives one whole session over net.Pipe: no panic, no hang,
// every reply a well-formed one.
func FuzzSession(f *testing.F) {
	f.Add([]byte("USER bob\r\nPASS bob\r\nPWD\r\nCWD upload\r\nMKD x\r\nRNFR x\r\nRNTO y\r\nRMD y\r\nFEAT\r\nQUIT\r\n"))
	f.Add([]byte("USER anonymous\r\nPASS x\r\nEPSV\r\nPASV\r\nRETR /pub/hello.txt\r\nSTAT\r\nABOR\r\nQUIT\r\n"))
	f.Add([]byte("AUTH TLS\r\nPBSZ 0\r\nPROT P\r\nHOST localhost\r\nREST 5\r\nTYPE A\r\n"))
	root := f.TempDir()
	if err := fixture.Write(root); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > 4096 {
			return
		}
		s := &Server{Root: root, LoginDelay: -1, IdleTimeout: 2 * time.Second, DataTimeout: 100 * time.Millisecond,
			Users: []User{{Name: "bob", Password: "bob", Home: fixture.BobHome, WritableDir: "/upload"}, {Name: "anonymous", Home: fixture.AnonymousHome, Anonymous: true}}}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() { s.ServeConn(server); close(done) }()
		go func() {
			client.SetWriteDeadline(time.Now().Add(5 * time.Second))
			client.Write(input)
			client.Write([]byte("\r\nQUIT\r\n"))
		}()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		out, _ := io.ReadAll(io.LimitReader(client, 1<<20))
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the session did not end")
		}
		if len(out) < 4 || string(out[:4]) != "220 " {
			t.Fatalf("no greeting: %q", out)
		}
	})
}
