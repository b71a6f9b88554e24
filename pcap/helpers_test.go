package pcap

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

var (
	t0      = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cli     = netip.MustParseAddrPort("127.0.0.1:40000")
	httpSrv = netip.MustParseAddrPort("127.0.0.1:80")
	dnsSrv  = netip.MustParseAddrPort("127.0.0.1:53")
)

// capture builds a pcapng capture in memory with the synthesizer.
func capture(t testing.TB, build func(w *Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	build(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// analyze runs Analyze on a capture held in memory and returns the
// messages and flows.
func analyze(t testing.TB, data []byte, o Options) (*Summary, []*Message, []*Flow) {
	t.Helper()
	r, err := Open(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*Message
	var flows []*Flow
	o.KeepRaw = true
	o.OnMessage = func(m *Message) { msgs = append(msgs, m) }
	o.OnFlow = func(f *Flow) { flows = append(flows, f) }
	sum, err := Analyze(r, o)
	if err != nil {
		t.Fatal(err)
	}
	return sum, msgs, flows
}

// httpExchange writes one HTTP connection: each request followed by its
// response, then the FIN exchange.
func httpExchange(t testing.TB, w *Writer, client netip.AddrPort, ts time.Time, pairs ...string) {
	tc := w.TCP(client, httpSrv, "test")
	must(t, tc.Handshake(ts))
	for i := 0; i+1 < len(pairs); i += 2 {
		ts = ts.Add(time.Millisecond)
		must(t, tc.Data(ts, true, []byte(pairs[i])))
		ts = ts.Add(time.Millisecond)
		must(t, tc.Data(ts, false, []byte(pairs[i+1])))
	}
	must(t, tc.Close(ts.Add(time.Millisecond)))
}

func summaries(msgs []*Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.String())
	}
	return out
}

func addr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
