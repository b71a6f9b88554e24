package pcap_test

import (
	"bytes"
	"context"
	. "github.com/protospec/protospec/pcap"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/pcap/dns"
	"github.com/protospec/protospec/pcap/http1"
)

// transcriptEvents is a transcript like a spec records: an HTTP exchange
// on TCP, a DNS exchange on UDP, and a connection the target resets.
func transcriptEvents() []Event {
	q := dnsQuery(4242, "www.test.")
	body := strings.Repeat("x", 4000) // three segments at MSS 1460
	return []Event{
		{At: 0, Conn: "tcp#1 127.0.0.1:8080", Dir: "open", Local: "127.0.0.1:50000", Remote: "127.0.0.1:8080", Data: []byte("127.0.0.1:50000 -> 127.0.0.1:8080")},
		{At: time.Millisecond, Conn: "tcp#1 127.0.0.1:8080", Dir: "send", Local: "127.0.0.1:50000", Remote: "127.0.0.1:8080", Data: []byte("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")},
		{At: 2 * time.Millisecond, Conn: "tcp#1 127.0.0.1:8080", Dir: "recv", Local: "127.0.0.1:50000", Remote: "127.0.0.1:8080", Data: []byte("HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + body)},
		{At: 3 * time.Millisecond, Conn: "tcp#1 127.0.0.1:8080", Dir: "close", Local: "127.0.0.1:50000", Remote: "127.0.0.1:8080", Data: []byte("client close")},
		{At: 4 * time.Millisecond, Dir: "note", Data: []byte("a note")},
		{At: 5 * time.Millisecond, Conn: "udp#2 127.0.0.1:5353", Dir: "open", Local: "127.0.0.1:50001", Remote: "127.0.0.1:53", Data: []byte("127.0.0.1:50001 -> 127.0.0.1:53")},
		{At: 6 * time.Millisecond, Conn: "udp#2 127.0.0.1:5353", Dir: "send", Local: "127.0.0.1:50001", Remote: "127.0.0.1:53", Data: q},
		{At: 7 * time.Millisecond, Conn: "udp#2 127.0.0.1:5353", Dir: "recv", Local: "127.0.0.1:50001", Remote: "127.0.0.1:53", Data: dnsAnswer(q, "127.0.0.9")},
		// An old-style transcript: addresses only in the open event.
		{At: 8 * time.Millisecond, Conn: "tcp#3 127.0.0.1:7", Dir: "open", Data: []byte("127.0.0.1:50002 -> 127.0.0.1:7")},
		{At: 9 * time.Millisecond, Conn: "tcp#3 127.0.0.1:7", Dir: "send", Data: []byte("hello\n")},
		{At: 10 * time.Millisecond, Conn: "tcp#3 127.0.0.1:7", Dir: "close", Data: []byte("read error: connection reset by peer")},
	}
}

func TestWriteTranscript(t *testing.T) {
	var buf bytes.Buffer
	must(t, WriteTranscript(&buf, transcriptEvents(), TranscriptOptions{Base: t0, Comment: "echo/rfc862/tcp/x"}))
	r, err := Open(bytes.NewReader(buf.Bytes()))
	must(t, err)
	dec := NewDecoder()
	var s Segment
	var syn, fin, rst, data, udp int
	var maxPayload int
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if p.Comment != "echo/rfc862/tcp/x" {
			t.Fatalf("packet %d comment %q", p.Index, p.Comment)
		}
		if p.Timestamp.Before(t0) || p.Timestamp.After(t0.Add(time.Second)) {
			t.Fatalf("packet %d at %v", p.Index, p.Timestamp)
		}
		if !dec.Decode(p, &s) {
			t.Fatalf("packet %d does not decode", p.Index)
		}
		switch {
		case s.UDP:
			udp++
		case s.SYN:
			syn++
		case s.RST:
			rst++
		case s.FIN:
			fin++
		}
		if !s.UDP && len(s.Payload) > 0 {
			data++
			maxPayload = max(maxPayload, len(s.Payload))
		}
	}
	// Two connections: SYN and SYN-ACK each; the first ends with two
	// FINs, the second with a RST; the 4000-byte body takes 3 segments.
	if syn != 4 || fin != 2 || rst != 1 || udp != 2 || data != 5 || maxPayload != MSS {
		t.Fatalf("syn=%d fin=%d rst=%d udp=%d data=%d max=%d", syn, fin, rst, udp, data, maxPayload)
	}
	_, msgs, flows := analyze(t, buf.Bytes(), Options{})
	got := strings.Join(summaries(msgs), "\n")
	for _, want := range []string{
		"flow 1 -> client#0 GET /hello.txt HTTP/1.1",
		"flow 1 <- server#0 HTTP/1.1 200 OK (answers #0)",
		"flow 2 -> client#0 dns query id=4242 www.test. A IN",
		"flow 2 <- server#0 dns response NOERROR id=4242 www.test. A IN an=1 ns=0 ar=0 (answers #0)",
		"flow 3 -> client#0 line \"hello\\n\" (6 bytes)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if len(flows) != 3 || flows[0].End != "fin" || flows[2].End != "rst" || flows[0].Gaps != 0 {
		t.Errorf("flows: %+v", flows)
	}
}

// TestTsharkDissects checks that Wireshark's dissector reads the
// synthesized packets as HTTP and DNS.
func TestTsharkDissects(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	path := filepath.Join(t.TempDir(), "t.pcapng")
	must(t, WriteTranscriptFile(path, transcriptEvents(), TranscriptOptions{Base: t0, Comment: "spec/x"}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, "-n", "-r", path, "-d", "tcp.port==8080,http", "-T", "fields", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info", "-e", "frame.comment", "-e", "_ws.expert.message")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"HTTP\tGET /hello.txt HTTP/1.1", "HTTP/1.1 200 OK", "DNS\tStandard query 0x1092 A www.test", "Standard query response 0x1092 A www.test A 127.0.0.9"} {
		if !strings.Contains(text, want) {
			t.Errorf("tshark output lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"Malformed", "checksum", "Previous segment not captured", "retransmission"} {
		if strings.Contains(strings.ToLower(text), strings.ToLower(bad)) {
			t.Errorf("tshark says %q:\n%s", bad, text)
		}
	}
}

// TestRecorderTCP records an HTTP-like exchange through the proxy.
func TestRecorderTCP(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer up.Close()
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1024)
		n, _ := c.Read(buf)
		if strings.HasPrefix(string(buf[:n]), "GET") {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
		}
	}()
	var out bytes.Buffer
	ready := make(chan net.Addr, 1)
	rec := &Recorder{Listen: "127.0.0.1:0", Upstream: up.Addr().String(), Out: &out, IdleTimeout: 5 * time.Second, Ready: func(a net.Addr) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	addr := <-ready
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	must(t, err)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	got, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasSuffix(string(got), "hi") {
		t.Fatalf("through the proxy: %q", got)
	}
	// Let the proxy see both closes before stopping it.
	deadline := time.Now().Add(5 * time.Second)
	for rec.Packets() < 9 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	must(t, <-done)
	_, msgs, _ := analyze(t, out.Bytes(), Options{DecodeAs: map[uint16]string{uint16(up.Addr().(*net.TCPAddr).Port): "http1"}})
	if len(msgs) != 2 || http1.InfoOf(msgs[0]).Method != "GET" || http1.InfoOf(msgs[1]).Status != 200 || string(msgs[1].Raw) != "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" {
		t.Fatalf("recorded: %q", summaries(msgs))
	}
}

// TestRecorderUDP records a datagram exchange through the proxy.
func TestRecorderUDP(t *testing.T) {
	up, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	defer up.Close()
	go func() {
		buf := make([]byte, 2048)
		up.SetDeadline(time.Now().Add(5 * time.Second))
		n, from, err := up.ReadFrom(buf)
		if err == nil {
			up.WriteTo(dnsAnswer(buf[:n], "127.0.0.2"), from)
		}
	}()
	var out bytes.Buffer
	ready := make(chan net.Addr, 1)
	rec := &Recorder{Listen: "127.0.0.1:0", Upstream: up.LocalAddr().String(), UDP: true, Out: &out, IdleTimeout: 5 * time.Second, Ready: func(a net.Addr) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	addr := <-ready
	c, err := net.Dial("udp", addr.String())
	must(t, err)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write(dnsQuery(7, "a.test."))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	must(t, err)
	c.Close()
	var m mdns.Msg
	must(t, m.Unpack(buf[:n]))
	cancel()
	must(t, <-done)
	_, msgs, _ := analyze(t, out.Bytes(), Options{})
	if len(msgs) != 2 || dns.InfoOf(msgs[1]).ID != 7 || msgs[1].Answers != 0 {
		t.Fatalf("recorded: %q", summaries(msgs))
	}
}
