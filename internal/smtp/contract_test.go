package smtp

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	refsmtp "github.com/protospec/protospec/reference/smtp"
)

// serveOnce greets one connection with greeting and, when ehlo is set,
// answers the first line with it; it returns the address.
func serveOnce(t *testing.T, greeting, ehlo string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if greeting == "" {
			return
		}
		c.Write([]byte(greeting))
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil || ehlo == "" {
			// Silent after the greeting: read on until the client leaves.
			buf := make([]byte, 64)
			c.Read(buf)
			return
		}
		c.Write([]byte(ehlo))
		br.ReadString('\n')
	}()
	return l.Addr().String()
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestLivenessProbe(t *testing.T) {
	alive := []struct{ greeting, ehlo string }{
		{"220 ready\r\n", "250 hi\r\n"},
		{"220-hello\r\n220 ready\r\n", "250-hi\r\n250 PIPELINING\r\n"},
		{"220 ready\r\n", "502 no EHLO\r\n"},
		{"554 no SMTP service here\r\n", ""},
		{"421 busy\r\n", ""},
	}
	for _, a := range alive {
		if err := LivenessProbe(withTimeout(t, 5*time.Second), ServiceTCP, serveOnce(t, a.greeting, a.ehlo)); err != nil {
			t.Errorf("greeting %q, EHLO %q: %v", a.greeting, a.ehlo, err)
		}
	}
	dead := []struct{ greeting, ehlo string }{
		{"", ""},                    // closes at once
		{"HTTP/1.1 200 OK\r\n", ""}, // not a reply
		{"220 ready\r\n", ""},       // greets, then silent
	}
	for _, d := range dead {
		if err := LivenessProbe(withTimeout(t, time.Second), ServiceTCP, serveOnce(t, d.greeting, d.ehlo)); err == nil {
			t.Errorf("greeting %q, EHLO %q: probe passed", d.greeting, d.ehlo)
		}
	}
	if err := LivenessProbe(withTimeout(t, time.Second), "smtp/udp", "127.0.0.1:1"); err == nil {
		t.Error("unknown service passed")
	}
}

// TestProbeReference probes the reference server delivering into the
// fixture WriteFixture writes.
func TestProbeReference(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFixture(dir); err != nil {
		t.Fatal(err)
	}
	for _, mb := range []string{"bob", "alice", mailstore.PostmasterMailbox} {
		if st, err := os.Stat(filepath.Join(dir, mb, "new")); err != nil || !st.IsDir() {
			t.Errorf("fixture: no Maildir %s: %v", mb, err)
		}
	}
	st, err := mailstore.Open(dir, DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	s := &refsmtp.Server{Store: st}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	defer s.Close()
	if err := LivenessProbe(withTimeout(t, 5*time.Second), ServiceTCP, l.Addr().String()); err != nil {
		t.Fatal(err)
	}
}

func TestContract(t *testing.T) {
	if Contract.Name != Name {
		t.Fatalf("contract name %q", Contract.Name)
	}
	if _, ok := Contract.Service(ServiceTCP); !ok {
		t.Errorf("no service %s", ServiceTCP)
	}
	for _, f := range []string{FeatureSTARTTLS, FeaturePipelining, FeatureSize, Feature8BitMIME, FeatureEnhancedCodes, FeatureSMTPUTF8, FeatureVRFY} {
		if _, ok := Contract.Feature(f); !ok {
			t.Errorf("no feature %s", f)
		}
	}
	if got := mailstore.FixtureMailboxes()[AddressBob]; got != "bob" {
		t.Errorf("%s is delivered to %q", AddressBob, got)
	}
	if got := mailstore.FixtureMailboxes()[PostmasterBob]; got != mailstore.PostmasterMailbox {
		t.Errorf("%s is delivered to %q", PostmasterBob, got)
	}
}
