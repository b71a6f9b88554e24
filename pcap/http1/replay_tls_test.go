package http1

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	ihttp1 "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// A flow recorded over plain TCP replays over the reference's http/tls
// with OverTLS, through the dialer trusting the run's CA; a dialer that
// trusts another CA fails the flow at the handshake.
func TestReplayOverTLS(t *testing.T) {
	fx, err := tlsfixture.New()
	pcaptest.Must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ref, err := targets.Open(ctx, "reference", targets.Options{Protocol: ihttp1.Name, TLS: fx})
	pcaptest.Must(t, err)
	defer ref.Close()
	ep, err := ref.Endpoint("http/tcp")
	pcaptest.Must(t, err)
	data := pcaptest.Record(t, ep.Addr, false, func(addr string) {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		pcaptest.Must(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		io.ReadAll(c)
	})
	port := ep.Addr[strings.LastIndexByte(ep.Addr, ':')+1:]
	r, err := pcap.Open(bytes.NewReader(data))
	pcaptest.Must(t, err)
	da, _ := pcap.ParseDecodeAs([]string{port + "=" + ihttp1.Name})
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: da}, 0)
	pcaptest.Must(t, err)
	if len(convs) != 1 {
		t.Fatalf("recorded %d flows", len(convs))
	}
	tlsEp, err := ref.Endpoint("http/tls")
	pcaptest.Must(t, err)
	o := pcap.ReplayOptions{Open: pcaptest.Fixed(ref), StepTimeout: 3 * time.Second, OverTLS: true,
		Dialer: &dial.Dialer{TLS: &tls.Config{RootCAs: fx.Pool()}}}
	run := pcap.Replay(context.Background(), convs, o)
	if len(run.Specs) != 1 || run.Specs[0].State != reports.StatePassed {
		t.Fatalf("replay over TLS: %+v", run.Specs)
	}
	if conn := run.Specs[0].Transcript[0].Conn; conn != tlsEp.String() {
		t.Errorf("replay reached %q, want the http/tls endpoint %s", conn, tlsEp)
	}
	other, err := tlsfixture.New()
	pcaptest.Must(t, err)
	o.Dialer = &dial.Dialer{TLS: &tls.Config{RootCAs: other.Pool()}}
	run = pcap.Replay(context.Background(), convs, o)
	if sp := run.Specs[0]; sp.State == reports.StatePassed || !strings.Contains(sp.Message, "certificate") {
		t.Errorf("replay trusting another CA: %s: %s", sp.State, sp.Message)
	}
}
