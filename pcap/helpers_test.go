package pcap_test

import (
	"net/netip"
	"testing"
	"time"

	. "github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"

	// The engine's tests run on the protocols protospec ships.
	_ "github.com/protospec/protospec/pcap/dns"
	_ "github.com/protospec/protospec/pcap/echo"
	_ "github.com/protospec/protospec/pcap/http1"
)

var (
	t0      = pcaptest.T0
	cli     = pcaptest.Client
	httpSrv = netip.MustParseAddrPort("127.0.0.1:80")
	dnsSrv  = netip.MustParseAddrPort("127.0.0.1:53")
)

type rawPacket = pcaptest.RawPacket

var (
	capture     = pcaptest.Capture
	must        = pcaptest.Must
	analyze     = pcaptest.Analyze
	summaries   = pcaptest.Summaries
	addr        = pcaptest.Addr
	dnsQuery    = pcaptest.DNSQuery
	dnsAnswer   = pcaptest.DNSAnswer
	classic     = pcaptest.Classic
	gz          = pcaptest.Gz
	frames      = pcaptest.Frames
	bigEndianNG = pcaptest.BigEndianNG
)

// httpExchange writes one HTTP connection: each request followed by its
// response, then the FIN exchange.
func httpExchange(t testing.TB, w *Writer, client netip.AddrPort, ts time.Time, pairs ...string) {
	t.Helper()
	pcaptest.Exchange(t, w, client, httpSrv, ts, pairs...)
}
