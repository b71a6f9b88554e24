package pop3

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/internal/tlsfixture"
	refpop3 "github.com/protospec/protospec/reference/pop3"
)

// serveOnce greets one connection with greeting and, when quit is set,
// answers the first line with it; it returns the address.
func serveOnce(t *testing.T, greeting, quit string) string {
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
		if _, err := br.ReadString('\n'); err != nil || quit == "" {
			buf := make([]byte, 64)
			c.Read(buf)
			return
		}
		c.Write([]byte(quit))
	}()
	return l.Addr().String()
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestLivenessProbe(t *testing.T) {
	alive := []struct{ greeting, quit string }{
		{"+OK ready\r\n", "+OK bye\r\n"},
		{"+OK ready <1.2@host>\r\n", "-ERR no\r\n"},
		{"+OK\r\n", "+OK\r\n"},
		{"-ERR [SYS/TEMP] busy\r\n", ""},
	}
	for _, a := range alive {
		if err := LivenessProbe(withTimeout(t, 5*time.Second), ServiceTCP, serveOnce(t, a.greeting, a.quit)); err != nil {
			t.Errorf("greeting %q, QUIT %q: %v", a.greeting, a.quit, err)
		}
	}
	dead := []struct{ greeting, quit string }{
		{"", ""},                     // closes at once
		{"220 smtp here\r\n", ""},    // not POP3
		{"+OKAY\r\n", ""},            // not a status indicator
		{"+OK ready\r\n", ""},        // greets, then silent
		{"+OK ready\r\n", "bye\r\n"}, // answers QUIT with no status
	}
	for _, d := range dead {
		if err := LivenessProbe(withTimeout(t, time.Second), ServiceTCP, serveOnce(t, d.greeting, d.quit)); err == nil {
			t.Errorf("greeting %q, QUIT %q: probe passed", d.greeting, d.quit)
		}
	}
	if err := LivenessProbe(withTimeout(t, time.Second), "pop3/udp", "127.0.0.1:1"); err == nil {
		t.Error("unknown service passed")
	}
}

// TestProbeReference probes the reference serving the fixture
// WriteFixture writes, plain and over TLS.
func TestProbeReference(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFixture(dir); err != nil {
		t.Fatal(err)
	}
	for _, mb := range []string{"bob", "alice", mailstore.PostmasterMailbox} {
		if st, err := os.Stat(filepath.Join(dir, mb, "cur")); err != nil || !st.IsDir() {
			t.Errorf("fixture: no Maildir %s: %v", mb, err)
		}
	}
	st, err := mailstore.Open(dir, DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range []string{"bob", "alice", mailstore.PostmasterMailbox} {
		list, err := st.List(mb)
		if err != nil {
			t.Fatal(err)
		}
		want := FixtureMaildrop(mb)
		if len(list) != len(want) {
			t.Fatalf("%s holds %d messages, want %d", mb, len(list), len(want))
		}
		for i, m := range list {
			b, err := st.Read(mb, m.ID)
			if err != nil || string(b) != want[i] {
				t.Fatalf("%s message %d = %q, %v; want %q", mb, i+1, b, err, want[i])
			}
		}
	}
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &refpop3.Server{Store: st}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	go s.ServeTLS(tl, fx.ServerConfig())
	defer s.Close()
	if err := LivenessProbe(withTimeout(t, 5*time.Second), ServiceTCP, l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := LivenessProbe(withTimeout(t, 5*time.Second), ServiceTLS, tl.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := LivenessProbe(withTimeout(t, 5*time.Second), ServiceTLS, l.Addr().String()); err == nil {
		t.Fatal("pop3/tls probe passed on a plain port")
	}
}

func TestContract(t *testing.T) {
	if Contract.Name != Name {
		t.Fatalf("contract name %q", Contract.Name)
	}
	for _, s := range []string{ServiceTCP, ServiceTLS} {
		if _, ok := Contract.Service(s); !ok {
			t.Errorf("no service %s", s)
		}
	}
	if protocol.OverTLS(ServiceTCP) != ServiceTLS {
		t.Errorf("OverTLS(%s) = %s", ServiceTCP, protocol.OverTLS(ServiceTCP))
	}
	for _, f := range []string{FeatureSTLS, FeatureCAPA, FeatureRespCodes, FeaturePipelining, FeatureTOP, FeatureUIDL, FeatureAPOP, FeatureSASLPlain, FeaturePlaintextAuth} {
		if _, ok := Contract.Feature(f); !ok {
			t.Errorf("no feature %s", f)
		}
	}
	users := map[string]string{}
	for _, u := range mailstore.FixtureUsers {
		users[u.Name] = u.Password
	}
	if users[UserBob] != PasswordBob || users[UserAlice] != PasswordAlice {
		t.Errorf("fixture users %v", users)
	}
	for _, p := range []string{PlaintextNever, PlaintextLoopback, PlaintextAlways} {
		if _, err := refpop3.ParsePlaintextPolicy(p); err != nil {
			t.Errorf("the reference does not take %s=%s: %v", ParamPlaintextAuth, p, err)
		}
	}
}
