package dns

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// serve runs h over UDP and TCP on one loopback port until the test ends.
func serve(t *testing.T, h dns.HandlerFunc) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		go srv.ActivateAndServe()
		t.Cleanup(func() { srv.Shutdown() })
	}
	return l.Addr().String()
}

// soaServer answers the SOA of the fixture's zones authoritatively when
// loaded, SERVFAIL otherwise, and version.bind CH TXT either way.
func soaServer(loaded bool) dns.HandlerFunc {
	return func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg).SetReply(q)
		switch {
		case q.Question[0].Qclass == dns.ClassCHAOS:
			txt, _ := dns.NewRR(`version.bind. 0 CH TXT "fake"`)
			r.Answer = []dns.RR{txt}
		case !loaded:
			r.Rcode = dns.RcodeServerFailure
		default:
			soa, _ := dns.NewRR(q.Question[0].Name + " 3600 IN SOA ns1.test. hostmaster.test. 1 3600 900 604800 300")
			r.Answer, r.Authoritative = []dns.RR{soa}, true
		}
		w.WriteMsg(r)
	}
}

func TestProbes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	loaded, loading := serve(t, soaServer(true)), serve(t, soaServer(false))
	if err := SOAProbe(loaded, Origins()...)(ctx); err != nil {
		t.Errorf("SOA of a loaded server: %v", err)
	}
	if err := SOAProbe(loading, Origins()...)(ctx); err == nil || !strings.Contains(err.Error(), "SERVFAIL") {
		t.Errorf("SOA of a loading server: %v, want SERVFAIL", err)
	}
	if err := VersionProbe(loading)(ctx); err != nil {
		t.Errorf("version.bind: %v", err)
	}
	for svc, addr := range map[string]string{"dns/udp": loaded, "dns/tcp": loaded, "resolver/udp": loading, "resolver/tcp": loading} {
		if err := FixtureProbe(ctx, svc, addr); err != nil {
			t.Errorf("Probe %s: %v", svc, err)
		}
	}
	for _, svc := range []string{"dns/sctp", "mail/udp", "dns"} {
		if err := FixtureProbe(ctx, svc, loaded); err == nil {
			t.Errorf("Probe %s succeeded", svc)
		}
	}
	if err := FixtureProbe(ctx, "dns/tcp", loading); err == nil {
		t.Error("Probe dns/tcp of a loading server succeeded")
	}
}
