package smtp

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/loadgen/loadgentest"
	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/tlsfixture"
)

// loadFake is a minimal SMTP server for the load client's own tests: it
// accepts every command, announces PIPELINING, and answers the end of
// data with endData.
func loadFake(t *testing.T, endData string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go loadFakeSession(c, endData)
		}
	}()
	return l.Addr().String()
}

func loadFakeSession(c net.Conn, endData string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprint(c, "220 fake ESMTP\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			fmt.Fprint(c, "250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
		case "MAIL", "RCPT", "RSET":
			fmt.Fprint(c, "250 2.0.0 ok\r\n")
		case "DATA":
			fmt.Fprint(c, "354 go on\r\n")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			fmt.Fprint(c, endData)
		case "QUIT":
			fmt.Fprint(c, "221 bye\r\n")
			return
		default:
			fmt.Fprint(c, "502 no\r\n")
		}
	}
}

func planLoad(t *testing.T, params map[string]string) *loadgen.Load {
	t.Helper()
	c, err := loadgen.LookupClient(loadContractName)
	if err != nil {
		t.Fatal(err)
	}
	load, err := c.Plan(params)
	if err != nil {
		t.Fatal(err)
	}
	return load
}

// TestLoadClientModes runs every mode against the fake server, and sees a
// refused message counted as an unexpected status.
func TestLoadClientModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		end    string
		bad    bool
	}{
		{"session", map[string]string{"mode": "session"}, "250 2.0.0 queued\r\n", false},
		{"reuse", map[string]string{"mode": "reuse", "size": "10000"}, "250 2.0.0 queued\r\n", false},
		{"reuse pipelining", map[string]string{"mode": "reuse", "pipelining": "true"}, "250 2.0.0 queued\r\n", false},
		{"refused", map[string]string{"mode": "reuse"}, "554 5.6.0 no\r\n", true},
		{"not a reply", map[string]string{"mode": "session"}, "hello\r\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := planLoad(t, tc.params).Open(loadgen.TCP(loadFake(t, tc.end)), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Requests: 100})
			if tc.bad {
				if res.Completed != 0 || res.ErrorCount() == 0 {
					t.Errorf("refused messages: completed %d, errors %v", res.Completed, res.Errors)
				}
				return
			}
			if res.Completed != 100 || res.ErrorCount() != 0 {
				t.Errorf("completed %d, errors %v", res.Completed, res.Errors)
			}
		})
	}
}

// TestLoadClientOptions: bad options are refused before any load.
func TestLoadClientOptions(t *testing.T) {
	for _, o := range []LoadClientOptions{{}, {Addr: "127.0.0.1:1", Mode: "bulk"}, {Addr: "127.0.0.1:1", Rcpt: "a>\r\nRCPT TO:<b"}, {Addr: "127.0.0.1:1", Size: -1}} {
		if _, err := NewLoadClient(o); err == nil {
			t.Errorf("NewLoadClient(%+v) accepted bad options", o)
		}
	}
	c, _ := loadgen.LookupClient(loadContractName)
	for _, params := range []map[string]string{{"size": "big"}, {"pipelining": "maybe"}} {
		if _, err := c.Plan(params); err == nil {
			t.Errorf("Plan(%v) accepted bad params", params)
		}
	}
}

// TestLoadMessage: the body has the size asked for, no line starts with
// a dot, and the text ends with the "." line.
func TestLoadMessage(t *testing.T) {
	for _, size := range []int{0, 1, 2, 3, 77, 78, 79, 1000} {
		m := string(loadMessage("a@b.test", "c@d.test", size))
		head, body, ok := strings.Cut(m, "\r\n\r\n")
		if !ok || !strings.HasSuffix(body, ".\r\n") || strings.Contains(head, "\r\n.") {
			t.Fatalf("size %d: %q", size, m)
		}
		body = strings.TrimSuffix(body, ".\r\n")
		want := size
		if size%78 == 1 {
			want-- // a last line of one octet has no room for its CRLF
		}
		if len(body) != want {
			t.Errorf("size %d: body of %d octets, want %d", size, len(body), want)
		}
		if strings.Contains(body, "\r\n.") || strings.HasPrefix(body, ".") {
			t.Errorf("size %d: a line starts with a dot", size)
		}
	}
}

// TestLoadClientAgainstReference runs both modes against the reference
// server: every message accepted and delivered into bob's mailbox.
func TestLoadClientAgainstReference(t *testing.T) {
	root := t.TempDir()
	st, err := mailstore.Open(root, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create("bob"); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, &Server{Store: st})
	for _, mode := range []string{"session", "reuse"} {
		t.Run(mode, func(t *testing.T) {
			p, err := planLoad(t, map[string]string{"mode": mode, "pipelining": "true"}).Open(loadgen.TCP(addr), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Requests: 50})
			if res.Completed != 50 || res.ErrorCount() != 0 {
				t.Errorf("completed %d, errors %v", res.Completed, res.Errors)
			}
		})
	}
	if got, _ := filepath.Glob(filepath.Join(root, "bob", "new", "*")); len(got) != 100 {
		t.Errorf("%d messages in bob's mailbox, want 100", len(got))
	}
}

// TestLoadClientStartTLS runs both modes with starttls against the
// reference offering STARTTLS with a fixture certificate the client
// verifies, and sees a server without STARTTLS refused.
func TestLoadClientStartTLS(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	st, err := mailstore.Open(root, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create("bob"); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, &Server{Store: st, TLSConfig: fx.ServerConfig()})
	to := loadgen.Target{Endpoint: dial.Endpoint{Network: "tcp", Addr: addr, ServerName: "localhost"}, Dialer: &dial.Dialer{TLS: &tls.Config{RootCAs: fx.Pool()}}}
	for _, mode := range []string{"session", "reuse"} {
		t.Run(mode, func(t *testing.T) {
			p, err := planLoad(t, map[string]string{"mode": mode, "starttls": "true"}).Open(to, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Requests: 20})
			if res.Completed != 20 || res.ErrorCount() != 0 {
				t.Errorf("completed %d, errors %v", res.Completed, res.Errors)
			}
		})
	}
	p, err := planLoad(t, map[string]string{"mode": "reuse", "starttls": "true"}).Open(loadgen.TCP(loadFake(t, "250 ok\r\n")), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Dial(t.Context(), 5*time.Second); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("a server without STARTTLS: %v", err)
	}
}
