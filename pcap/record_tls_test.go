package pcap_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/tlsfixture"
	. "github.com/protospec/protospec/pcap"
)

// tapConn records the bytes a TLS connection's socket carries.
type tapConn struct {
	net.Conn
	mu   *sync.Mutex
	evs  *[]Event
	send string // the Dir of what this end writes
}

func (c *tapConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.evs = append(*c.evs, Event{Conn: "tls#1 127.0.0.1:8443", Dir: c.send, Data: append([]byte(nil), p...)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// tlsTranscript runs one TLS session over a pipe (a client sends request,
// the server answers response) and returns the wire events, as a spec's
// transcript holds them, and the client's key log.
func tlsTranscript(t *testing.T, request, response string) ([]Event, []byte) {
	t.Helper()
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	var mu sync.Mutex
	evs := []Event{{Conn: "tls#1 127.0.0.1:8443", Dir: "open", Local: "127.0.0.1:40000", Remote: "127.0.0.1:8443"}}
	var keyLog bytes.Buffer
	cli := tls.Client(&tapConn{Conn: a, mu: &mu, evs: &evs, send: "send"}, &tls.Config{RootCAs: fx.Pool(), ServerName: "localhost", KeyLogWriter: &keyLog})
	srv := tls.Server(&tapConn{Conn: b, mu: &mu, evs: &evs, send: "recv"}, fx.ServerConfig())
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	_ = b.SetDeadline(time.Now().Add(10 * time.Second))
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, len(request))
		if _, err := io.ReadFull(srv, buf); err != nil {
			errc <- err
			return
		}
		_, err := srv.Write([]byte(response))
		errc <- err
	}()
	if _, err := cli.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(response))
	if _, err := io.ReadFull(cli, buf); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range evs {
		evs[i].At = time.Duration(i) * time.Millisecond
	}
	return append([]Event(nil), evs...), keyLog.Bytes()
}

// blocks splits a little-endian pcapng file into its block types and
// bodies.
func blocks(t *testing.T, data []byte) (types []uint32, bodies [][]byte) {
	t.Helper()
	for len(data) > 0 {
		if len(data) < 12 {
			t.Fatalf("%d stray bytes at the end", len(data))
		}
		typ, n := binary.LittleEndian.Uint32(data), int(binary.LittleEndian.Uint32(data[4:]))
		if n < 12 || n%4 != 0 || n > len(data) || binary.LittleEndian.Uint32(data[n-4:]) != uint32(n) {
			t.Fatalf("block type %#x: bad length %d", typ, n)
		}
		types, bodies = append(types, typ), append(bodies, data[8:n-4])
		data = data[n:]
	}
	return types, bodies
}

// A transcript with a key log gets a Decryption Secrets Block, holding the
// key log as TLSK secrets, after the interface and before any packet.
func TestWriteTranscriptKeyLog(t *testing.T) {
	evs, keyLog := tlsTranscript(t, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
	if !bytes.HasPrefix(keyLog, []byte("CLIENT_")) {
		t.Fatalf("key log %q", keyLog)
	}
	var out bytes.Buffer
	must(t, WriteTranscript(&out, evs, TranscriptOptions{Base: t0, KeyLog: keyLog, TLSServerPort: 443}))
	types, bodies := blocks(t, out.Bytes())
	dsb := -1
	for i, typ := range types {
		if typ == NgDSB {
			dsb = i
			break
		}
	}
	if dsb < 0 {
		t.Fatalf("no Decryption Secrets Block among blocks %x", types)
	}
	if types[0] != 0x0A0D0D0A || types[1] != 1 || dsb != 2 {
		t.Errorf("blocks %x: want section header, interface, then the secrets", types)
	}
	for _, typ := range types[dsb+1:] {
		if typ != 6 {
			t.Errorf("block %#x after the secrets; want only enhanced packets", typ)
		}
	}
	body := bodies[dsb]
	if got := binary.LittleEndian.Uint32(body); got != SecretsTLS {
		t.Errorf("secrets type %#x, want TLSK", got)
	}
	if n := binary.LittleEndian.Uint32(body[4:]); int(n) != len(keyLog) || !bytes.Equal(body[8:8+n], keyLog) {
		t.Errorf("secrets %q, want the key log %q", body[8:], keyLog)
	}
	if len(types) < 3+6 {
		t.Errorf("only %d blocks: the TLS records are missing", len(types))
	}
}

// tshark decrypts the TLS records of a capture with its secrets block and
// dissects the HTTP inside.
func TestTsharkDecryptsTLS(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: cannot check that the key log decrypts the capture")
	}
	evs, keyLog := tlsTranscript(t, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
	path := filepath.Join(t.TempDir(), "tls.pcapng")
	must(t, WriteTranscriptFile(path, evs, TranscriptOptions{Base: t0, KeyLog: keyLog, TLSServerPort: 443}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, "-n", "-r", path, "-Y", "http", "-T", "fields", "-e", "_ws.col.Info")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	for _, want := range []string{"GET /hello.txt HTTP/1.1", "HTTP/1.1 200 OK"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tshark -Y http shows no %q: the records were not decrypted\n%s", want, out)
		}
	}
	// Without the secrets, the same records show no HTTP: the check above
	// is about the block, not about plaintext left in the capture.
	plain := filepath.Join(t.TempDir(), "nokeys.pcapng")
	must(t, WriteTranscriptFile(plain, evs, TranscriptOptions{Base: t0, TLSServerPort: 443}))
	out, err = exec.CommandContext(ctx, tshark, "-n", "-r", plain, "-Y", "http").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "GET /hello.txt") {
		t.Errorf("HTTP visible without the key log:\n%s", out)
	}
}
