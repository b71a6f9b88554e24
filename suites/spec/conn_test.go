package spec

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
)

// lineServer answers on l: for each connection, "STARTTLS" gets "OK" and
// a TLS handshake with cfg, then every line is echoed; a TLS listener
// echoes from the start. It reports each client's address on peers.
func lineServer(t *testing.T, l net.Listener, cfg *tls.Config, peers chan<- string) {
	t.Helper()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				peers <- c.RemoteAddr().String()
				var rw net.Conn = c
				br := bufio.NewReader(rw)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "STARTTLS\r\n" {
						if _, err := rw.Write([]byte("OK\r\n")); err != nil {
							return
						}
						rw = tls.Server(c, cfg)
						br = bufio.NewReader(rw)
						continue
					}
					if _, err := rw.Write([]byte(line)); err != nil {
						return
					}
				}
			}(c)
		}
	}()
}

func newTestT(t *testing.T, cfg Config) *T {
	t.Helper()
	Use(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	tt := newT(ctx, Meta{ID: ID{"echo", "test", "x", "y"}, Level: MUST, Title: "test"})
	t.Cleanup(func() {
		for _, c := range tt.conns {
			c.closeQuietly()
		}
	})
	return tt
}

// A TLS endpoint, a STARTTLS upgrade and a chosen source address all go
// through the spine: the transcript keeps the application bytes (marked
// once in TLS), the wire carries records, and the key log is kept.
func TestConnTLSAndStartTLS(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	peers := make(chan string, 8)
	lineServer(t, plain, fx.ServerConfig(), peers)
	lineServer(t, tls.NewListener(tl, fx.ServerConfig()), nil, peers)
	tg := &targets.Static{TargetName: "test", Endpoints: map[string]targets.Endpoint{
		"line/tcp": {Network: "tcp", Addr: plain.Addr().String(), Security: dial.StartTLS, ServerName: "localhost"},
		"line/tls": {Network: "tcp", Addr: tl.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
	}}
	tt := newTestT(t, Config{Target: tg, TLS: &tls.Config{RootCAs: fx.Pool()}})

	c, err := tt.TryDialFrom("line/tcp", "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if p := <-peers; !strings.HasPrefix(p, "127.0.0.2:") {
		t.Errorf("the server saw %s, want the source 127.0.0.2", p)
	}
	c.Send("STARTTLS\r\n")
	if l, err := c.ReadLine(0); err != nil || string(l) != "OK\r\n" {
		t.Fatalf("STARTTLS answer %q, %v", l, err)
	}
	if err := c.StartTLS(nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.TLS(); !ok {
		t.Error("TLS() reports a plain connection after StartTLS")
	}
	c.Send("secret line\r\n")
	if l, err := c.ReadLine(0); err != nil || string(l) != "secret line\r\n" {
		t.Fatalf("echo over TLS %q, %v", l, err)
	}

	d, err := tt.TryDial("line/tls")
	if err != nil {
		t.Fatal(err)
	}
	<-peers
	d.Send("hi\r\n")
	if l, err := d.ReadLine(0); err != nil || string(l) != "hi\r\n" {
		t.Fatalf("echo on the TLS endpoint %q, %v", l, err)
	}

	tr := tt.rec.transcript()
	var plainSends, tlsSends, wire int
	for _, e := range tr.Events {
		switch {
		case e.Wire:
			wire++
			if strings.Contains(string(e.Data), "secret line") {
				t.Errorf("plaintext on the wire after the upgrade: %q", e.Data)
			}
		case e.Dir == dirSend && e.TLS:
			tlsSends++
		case e.Dir == dirSend:
			plainSends++
			if string(e.Data) != "STARTTLS\r\n" {
				t.Errorf("unmarked send %q after the upgrade", e.Data)
			}
		}
	}
	if plainSends != 1 || tlsSends != 2 || wire < 4 {
		t.Errorf("%d plain sends, %d TLS sends, %d wire events; want 1, 2 and the records", plainSends, tlsSends, wire)
	}
	if n := strings.Count(string(tr.KeyLog), "CLIENT_TRAFFIC_SECRET_0"); n != 2 {
		t.Errorf("key log has %d sessions, want 2:\n%s", n, tr.KeyLog)
	}
	text := tr.String()
	if !strings.Contains(text, `send (tls) "secret line\r\n"`) || !strings.Contains(text, "TLS handshake done") {
		t.Errorf("transcript does not show the TLS bytes marked:\n%s", text)
	}
	for _, e := range tr.Report() {
		if e.Dir == dirRecv && strings.Contains(e.Data, `\x16\x03`) {
			t.Errorf("report shows a TLS record: %+v", e)
		}
	}
}

// A handshake with a server whose certificate the run does not trust
// fails the dial with the reason.
func TestConnTLSUntrusted(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	lineServer(t, tls.NewListener(tl, fx.ServerConfig()), nil, make(chan string, 8))
	tg := &targets.Static{TargetName: "test", Endpoints: map[string]targets.Endpoint{
		"line/tls": {Network: "tcp", Addr: tl.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
	}}
	tt := newTestT(t, Config{Target: tg, TLS: &tls.Config{RootCAs: otherFixture(t).Pool()}})
	if _, err := tt.TryDial("line/tls"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted server: %v, want a certificate error", err)
	}
}

// otherFixture is a CA that signed nothing the test serves.
func otherFixture(t *testing.T) *tlsfixture.Fixture {
	f, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// OverTLS sends a spec's TCP service to its TLS counterpart.
func TestServiceOverTLS(t *testing.T) {
	tt := newTestT(t, Config{OverTLS: true})
	if got := tt.Service("http/tcp"); got != "http/tls" {
		t.Errorf("Service(http/tcp) = %s with OverTLS", got)
	}
	if got := tt.Service("echo/udp"); got != "echo/udp" {
		t.Errorf("Service(echo/udp) = %s", got)
	}
}

func TestScaled(t *testing.T) {
	for _, c := range []struct{ d, step, want time.Duration }{
		{500 * time.Millisecond, DefaultStepTimeout, 500 * time.Millisecond},
		{500 * time.Millisecond, 2 * DefaultStepTimeout, time.Second},
		{3 * time.Second, DefaultStepTimeout / 5, 600 * time.Millisecond},
	} {
		if got := scale(c.d, c.step); got != c.want {
			t.Errorf("scale(%v, %v) = %v, want %v", c.d, c.step, got, c.want)
		}
	}
}

// A flood of events keeps the first half and the latest, with one note
// counting what was left out.
func TestRecorderCapsEvents(t *testing.T) {
	r := &recorder{start: time.Now()}
	for i := 0; i < 10*maxEvents; i++ {
		r.add(event{conn: "udp#1", dir: dirSend, data: []byte(strconv.Itoa(i))})
	}
	tr := r.transcript()
	if len(tr.Events) > maxEvents {
		t.Fatalf("%d events kept, want at most %d", len(tr.Events), maxEvents)
	}
	note := tr.Events[maxEvents/2]
	if note.Dir != dirNote || !strings.Contains(string(note.Data), "events left out") {
		t.Errorf("no note at the cut: %+v", note)
	}
	if last := tr.Events[len(tr.Events)-1]; string(last.Data) != strconv.Itoa(10*maxEvents-1) {
		t.Errorf("the latest event was dropped: %v", last.Data)
	}
	if kept := len(tr.Events) - 1; kept+r.dropped != 10*maxEvents {
		t.Errorf("%d kept + %d dropped != %d", kept, r.dropped, 10*maxEvents)
	}
}

// Once the run's transcripts are full, a spec keeps only both ends of
// its own.
func TestExcerptsRunCap(t *testing.T) {
	saved := runTranscripts.Load()
	defer runTranscripts.Store(saved)
	big := bytes.Repeat([]byte("x"), 4096)
	tr := Transcript{}
	for i := 0; i < 100; i++ {
		tr.Events = append(tr.Events, Event{Dir: dirRecv, Len: len(big), Data: big})
	}
	runTranscripts.Store(0)
	if got := tr.excerpts(""); len(got.Events) != 100 || len(got.Events[0].Data) != ExcerptLen+1 || got.Events[0].Len != len(big) {
		t.Fatalf("under the cap: %d events, %d bytes kept of the first", len(got.Events), len(got.Events[0].Data))
	}
	runTranscripts.Store(maxRunTranscripts)
	got := tr.excerpts("")
	if len(got.Events) != 2*runTail+1 || !strings.Contains(string(got.Events[runTail].Data), "60 events left out") {
		t.Errorf("over the cap: %d events, note %q", len(got.Events), got.Events[runTail].Data)
	}
}
