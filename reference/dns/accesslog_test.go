package dns

import (
	"bytes"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// logBuffer is a buffer for a logger shared by the serve loops.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAccessLog checks one line per query with its qname, qtype and
// rcode, over UDP and TCP, and none without a logger.
func TestAccessLog(t *testing.T) {
	var buf logBuffer
	udp, tcp := startAuth(t, &AuthServer{AccessLog: log.New(&buf, "", 0)})
	q := new(mdns.Msg)
	q.SetQuestion("www.test.", mdns.TypeA)
	exchange(t, "udp", udp, q)
	q.SetQuestion("nope.test.", mdns.TypeMX)
	exchange(t, "tcp", tcp, q)
	for _, want := range []string{`udp "www.test." A NOERROR`, `tcp "nope.test." MX NXDOMAIN`} {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(buf.String(), want) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := buf.String(); !strings.Contains(got, want) {
			t.Errorf("access log lacks %q:\n%s", want, got)
		}
	}
}
