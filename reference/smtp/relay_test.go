package smtp

import (
	"context"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/internal/mailstore"
)

// loopbackDNS serves the records (name -> RRs in text form) on
// 127.0.0.1 and returns a resolver that asks only it.
func loopbackDNS(t *testing.T, records map[string][]string) Resolver {
	t.Helper()
	zone := map[string][]dns.RR{}
	for name, rrs := range records {
		for _, r := range rrs {
			rr, err := dns.NewRR(r)
			if err != nil {
				t.Fatal(err)
			}
			zone[dns.Fqdn(name)] = append(zone[dns.Fqdn(name)], rr)
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		name := strings.ToLower(q.Question[0].Name)
		rrs, ok := zone[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Question[0].Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// relayPair starts bob.test's MTA on 127.0.0.1 and returns its port; the
// DNS says bob.test's MX are mx1 (127.0.0.2, where nothing listens) then
// mx2 (127.0.0.1), carol.test has no MX but an A record, and nope.test's
// only MX is 127.0.0.1 too.
func bobMTA(t *testing.T) (*Server, int) {
	t.Helper()
	addr, bob := start(t, &Server{
		Hostname:  "mx.bob.test",
		TLSConfig: fixtureTLS.ServerConfig(),
		Mailboxes: map[string]string{"bob@bob.test": "bob", "carol@carol.test": "carol"},
	})
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return bob, port
}

func relayDNS(t *testing.T) Resolver {
	return loopbackDNS(t, map[string][]string{
		"bob.test":     {"bob.test. 60 IN MX 10 mx1.bob.test.", "bob.test. 60 IN MX 20 mx2.bob.test."},
		"mx1.bob.test": {"mx1.bob.test. 60 IN A 127.0.0.2"},
		"mx2.bob.test": {"mx2.bob.test. 60 IN A 127.0.0.1"},
		"carol.test":   {"carol.test. 60 IN A 127.0.0.1"},
	})
}

func aliceMTA(t *testing.T, port int, res Resolver, queue string, st *mailstore.Store) (string, *Server) {
	return start(t, &Server{
		Hostname:      "mx.alice.test",
		Store:         st,
		TLSConfig:     fixtureTLS.ServerConfig(),
		Mailboxes:     map[string]string{"alice@alice.test": "alice"},
		Relay:         true,
		Resolver:      res,
		RelayPort:     port,
		QueueDir:      queue,
		RetrySchedule: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond},
		RelayPoll:     20 * time.Millisecond,
	})
}

// submitAuth sends one message with AUTH PLAIN under STARTTLS.
func submitAuth(t *testing.T, addr, from, to, body string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(clientTLS()); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "alice", "alice", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	w.Write([]byte(body))
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func waitMessages(t *testing.T, st *mailstore.Store, box string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := messages(t, st, box)
		if len(m) >= n || time.Now().After(deadline) {
			if len(m) != n {
				t.Fatalf("%s has %d messages, want %d", box, len(m), n)
			}
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRelayByMX(t *testing.T) {
	bob, port := bobMTA(t)
	addr, alice := aliceMTA(t, port, relayDNS(t), "", nil)
	// mx1 refuses the connection: mx2 takes it.
	if err := submitAuth(t, addr, "alice@alice.test", "bob@bob.test", "Subject: hi\r\n\r\n.dot line\r\nhello bob\r\n"); err != nil {
		t.Fatal(err)
	}
	m := waitMessages(t, bob.Store, "bob", 1)[0]
	if n := strings.Count(m, "Received:"); n != 2 {
		t.Fatalf("%d Received fields, want 2:\n%s", n, m)
	}
	if !strings.HasPrefix(m, "Return-Path: <alice@alice.test>\r\n") || strings.Count(m, "Return-Path:") != 1 || !strings.Contains(m, "\r\n.dot line\r\n") {
		t.Fatalf("delivered:\n%s", m)
	}
	if !strings.Contains(m, "by mx.alice.test") || !strings.Contains(m, "by mx.bob.test") {
		t.Fatalf("delivered:\n%s", m)
	}
	// No MX: the A record of the domain.
	if err := submitAuth(t, addr, "alice@alice.test", "carol@carol.test", "Subject: a\r\n\r\nto carol\r\n"); err != nil {
		t.Fatal(err)
	}
	waitMessages(t, bob.Store, "carol", 1)
	// A 550 of the far end: a bounce for alice, from <>.
	if err := submitAuth(t, addr, "alice@alice.test", "nobody@bob.test", "Subject: lost\r\n\r\nnever\r\n"); err != nil {
		t.Fatal(err)
	}
	b := waitMessages(t, alice.Store, "alice", 1)[0]
	if !strings.Contains(b, "nobody@bob.test") || !strings.Contains(b, "Subject: lost") || !strings.Contains(b, "550") {
		t.Fatalf("bounce:\n%s", b)
	}
	if q, _ := filepath.Glob(filepath.Join(alice.queueDir(), "*")); len(q) != 0 {
		t.Fatalf("queue left: %v", q)
	}
	if spool := messages(t, alice.Store, RelaySpool); len(spool) != 0 {
		t.Fatalf("spool left: %d", len(spool))
	}
}

// An unreachable domain is retried on the schedule, then bounced.
func TestRelayRetryThenBounce(t *testing.T) {
	res := loopbackDNS(t, map[string][]string{
		"gone.test":    {"gone.test. 60 IN MX 10 mx.gone.test."},
		"mx.gone.test": {"mx.gone.test. 60 IN A 127.0.0.2"},
	})
	addr, alice := aliceMTA(t, 1, res, "", nil)
	if err := submitAuth(t, addr, "alice@alice.test", "x@gone.test", "Subject: far\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	b := waitMessages(t, alice.Store, "alice", 1)[0]
	if !strings.Contains(b, "x@gone.test") || !strings.Contains(b, "Subject: far") {
		t.Fatalf("bounce:\n%s", b)
	}
}

// The queue is on disk before the 250 and a new server delivers it once.
func TestRelayQueueSurvivesRestart(t *testing.T) {
	bob, port := bobMTA(t)
	res := relayDNS(t)
	st, err := mailstore.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	queue := t.TempDir()
	first := &Server{
		Store: st, TLSConfig: fixtureTLS.ServerConfig(), Mailboxes: map[string]string{"alice@alice.test": "alice"},
		Relay: true, Resolver: res, RelayPort: port, QueueDir: queue,
	}
	first.RelayPaused.Store(true)
	addr, _ := start(t, first)
	if err := submitAuth(t, addr, "alice@alice.test", "bob@bob.test", "Subject: later\r\n\r\nqueued\r\n"); err != nil {
		t.Fatal(err)
	}
	first.Close()
	if q, _ := filepath.Glob(filepath.Join(queue, "*.json")); len(q) != 1 {
		t.Fatalf("queue: %v", q)
	}
	if m := messages(t, bob.Store, "bob"); len(m) != 0 {
		t.Fatal("delivered by a paused worker")
	}
	_, second := aliceMTA(t, port, res, queue, st)
	waitMessages(t, bob.Store, "bob", 1)
	time.Sleep(200 * time.Millisecond)
	waitMessages(t, bob.Store, "bob", 1)
	if q, _ := os.ReadDir(queue); len(q) != 0 {
		t.Fatalf("queue left: %v", q)
	}
	_ = second
}

// Relaying is off by default, and on, it is for authenticated clients
// only.
func TestRelayRefusedUnauthenticated(t *testing.T) {
	_, port := bobMTA(t)
	for _, relay := range []bool{false, true} {
		addr, _ := start(t, &Server{Mailboxes: map[string]string{"alice@alice.test": "alice"}, Relay: relay, Resolver: relayDNS(t), RelayPort: port})
		c := dialConv(t, addr)
		c.do("EHLO x", "250 ")
		c.do("MAIL FROM:<a@elsewhere.test>", "250 ")
		c.do("RCPT TO:<bob@bob.test>", "550 5.7.1")
	}
}

// A message from the null reverse-path that fails for good is dropped,
// not bounced (a bounce is never bounced).
func TestRelayNoBounceOfBounce(t *testing.T) {
	bob, port := bobMTA(t)
	addr, alice := aliceMTA(t, port, relayDNS(t), "", nil)
	if err := submitAuth(t, addr, "", "nobody@bob.test", "Subject: dsn\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		q, _ := filepath.Glob(filepath.Join(alice.queueDir(), "*.json"))
		if len(q) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue: %v", q)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := messages(t, alice.Store, "alice"); len(m) != 0 {
		t.Fatalf("a bounce of a bounce:\n%s", m[0])
	}
	if m := messages(t, bob.Store, "bob"); len(m) != 0 {
		t.Fatal("delivered to bob")
	}
}
