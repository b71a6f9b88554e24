// Package pcaptest holds the helpers the tests of pcap and of its protocol
// rooms (pcap/<p>) share: captures synthesized in memory, analysis into
// messages and flows, golden files, recording and replaying against the
// references.
//
//	data := pcaptest.Capture(t, func(w *pcap.Writer) {
//		pcaptest.Exchange(t, w, pcaptest.Client, pcaptest.Addr("127.0.0.1:80"), pcaptest.T0, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
//	})
//	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
package pcaptest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
	// The reference target, for the replay tests.
	_ "github.com/protospec/protospec/targets/reference"
)

// T0 is the capture time the tests start at; Client the client's address.
var (
	T0     = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	Client = netip.MustParseAddrPort("127.0.0.1:40000")
)

// Addr parses an address and port.
func Addr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TB is what the seed helpers need of a test: *testing.T, *testing.F and
// *testing.B satisfy it, and so do the F and T of go-118-fuzz-build's
// testing shim, which replaces package testing in a fuzz harness built
// for libFuzzer (it has no testing.TB), so a harness may seed with them.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Must fails the test on err.
func Must(t TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Capture builds a pcapng capture in memory with the synthesizer.
func Capture(t TB, build func(w *pcap.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	build(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Analyze runs pcap.Analyze on a capture held in memory, wire bytes kept,
// and returns the messages and flows.
func Analyze(t testing.TB, data []byte, o pcap.Options) (*pcap.Summary, []*pcap.Message, []*pcap.Flow) {
	t.Helper()
	r, err := pcap.Open(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*pcap.Message
	var flows []*pcap.Flow
	o.KeepRaw = true
	o.OnMessage = func(m *pcap.Message) { msgs = append(msgs, m) }
	o.OnFlow = func(f *pcap.Flow) { flows = append(flows, f) }
	sum, err := pcap.Analyze(r, o)
	if err != nil {
		t.Fatal(err)
	}
	return sum, msgs, flows
}

// Exchange writes one TCP connection: each client message followed by the
// server's answer, then the FIN exchange.
func Exchange(t TB, w *pcap.Writer, client, server netip.AddrPort, ts time.Time, pairs ...string) {
	t.Helper()
	tc := w.TCP(client, server, "test")
	Must(t, tc.Handshake(ts))
	for i := 0; i+1 < len(pairs); i += 2 {
		ts = ts.Add(time.Millisecond)
		Must(t, tc.Data(ts, true, []byte(pairs[i])))
		ts = ts.Add(time.Millisecond)
		Must(t, tc.Data(ts, false, []byte(pairs[i+1])))
	}
	Must(t, tc.Close(ts.Add(time.Millisecond)))
}

// Summaries returns each message's one-line form.
func Summaries(msgs []*pcap.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.String())
	}
	return out
}

// DNSQuery packs a query of name's A records.
func DNSQuery(id uint16, name string) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.Id = id
	b, _ := m.Pack()
	return b
}

// DNSAnswer packs a response to the query q with one A record of ip.
func DNSAnswer(q []byte, ip string) []byte {
	var qm dns.Msg
	if err := qm.Unpack(q); err != nil {
		panic(err)
	}
	r := new(dns.Msg)
	r.SetReply(&qm)
	rr, _ := dns.NewRR(qm.Question[0].Name + " 300 IN A " + ip)
	r.Answer = append(r.Answer, rr)
	b, _ := r.Pack()
	return b
}

// RawPacket is one packet of a capture, for writing files by hand.
type RawPacket struct {
	TS      time.Time
	Data    []byte
	OrigLen int
}

// Packets returns the packets of a capture.
func Packets(t TB, data []byte) []RawPacket {
	t.Helper()
	r, err := pcap.Open(bytes.NewReader(data))
	Must(t, err)
	var out []RawPacket
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		Must(t, err)
		out = append(out, RawPacket{p.Timestamp, append([]byte(nil), p.Data...), p.OrigLen})
	}
}

// Frames returns the Ethernet frames of a small HTTP exchange.
func Frames(t TB) []RawPacket {
	t.Helper()
	return Packets(t, Capture(t, func(w *pcap.Writer) {
		Exchange(t, w, Client, Addr("127.0.0.1:80"), T0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	}))
}

// BigEndianNG writes a big-endian pcapng file with one interface of link
// type lt.
func BigEndianNG(lt layers.LinkType, pkts []RawPacket) []byte {
	const shbType, idbType, epbType = 0x0a0d0d0a, 1, 6 // pcapng's block types
	var b bytes.Buffer
	be := binary.BigEndian
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		var h [8]byte
		be.PutUint32(h[:], typ)
		be.PutUint32(h[4:], n)
		b.Write(h[:])
		b.Write(body)
		be.PutUint32(h[:], n)
		b.Write(h[:4])
	}
	shb := make([]byte, 16)
	be.PutUint32(shb, 0x1a2b3c4d)
	be.PutUint16(shb[4:], 1)
	be.PutUint64(shb[8:], ^uint64(0))
	block(shbType, shb)
	idb := make([]byte, 8)
	be.PutUint16(idb, uint16(lt))
	// if_tsresol = 10^-9
	idb = append(idb, 0, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0)
	block(idbType, idb)
	for _, p := range pkts {
		e := make([]byte, 20)
		ts := uint64(p.TS.UnixNano())
		be.PutUint32(e[4:], uint32(ts>>32))
		be.PutUint32(e[8:], uint32(ts))
		be.PutUint32(e[12:], uint32(len(p.Data)))
		be.PutUint32(e[16:], uint32(len(p.Data)))
		block(epbType, append(e, p.Data...))
	}
	return b.Bytes()
}

// Classic writes a classic pcap file by hand, in either byte order and
// resolution, of link type lt.
func Classic(order binary.ByteOrder, nano bool, lt layers.LinkType, snap int, pkts []RawPacket) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	order.PutUint32(h, magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], uint32(snap))
	order.PutUint32(h[20:], uint32(lt))
	b.Write(h)
	for _, p := range pkts {
		data := p.Data
		if len(data) > snap {
			data = data[:snap]
		}
		r := make([]byte, 16)
		order.PutUint32(r, uint32(p.TS.Unix()))
		frac := p.TS.Nanosecond()
		if !nano {
			frac /= 1000
		}
		order.PutUint32(r[4:], uint32(frac))
		order.PutUint32(r[8:], uint32(len(data)))
		order.PutUint32(r[12:], uint32(max(p.OrigLen, len(p.Data))))
		b.Write(r)
		b.Write(data)
	}
	return b.Bytes()
}

// Gz compresses b with gzip.
func Gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// Golden dissects every capture in testdata (the working directory's) and
// compares the messages and warnings with the .txt next to each; with
// update, it first writes the captures made and then the .txt files.
func Golden(t *testing.T, update bool, captures map[string][]byte) {
	if update {
		for name, data := range captures {
			Must(t, os.WriteFile(filepath.Join("testdata", name), data, 0o644))
		}
	}
	names, err := filepath.Glob("testdata/*")
	Must(t, err)
	n := 0
	for _, path := range names {
		if st, err := os.Stat(path); strings.HasSuffix(path, ".txt") || err != nil || st.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			var out strings.Builder
			r, err := pcap.OpenFile(path)
			if err != nil {
				out.WriteString("open: " + err.Error() + "\n")
			} else {
				defer r.Close()
				sum, err := pcap.Analyze(r, pcap.Options{OnMessage: func(m *pcap.Message) { out.WriteString(m.String() + "\n") }})
				Must(t, err)
				out.WriteString(strings.Join(sum.Warnings, "\n"))
				out.WriteString("\n")
			}
			golden := path + ".txt"
			if update {
				Must(t, os.WriteFile(golden, []byte(out.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			Must(t, err)
			if out.String() != string(want) {
				t.Errorf("%s:\n%s\nwant:\n%s", path, out.String(), want)
			}
		})
	}
	if n == 0 {
		t.Fatal("no capture in testdata")
	}
}

// OpenReference starts the reference server of a protocol for the test.
func OpenReference(t *testing.T, proto string) targets.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tgt, err := targets.Open(ctx, "reference", targets.Options{Protocol: proto})
	Must(t, err)
	t.Cleanup(func() { tgt.Close() })
	return tgt
}

// Record runs the recording proxy in front of upstream while fn talks to
// the proxy's address, and returns the capture.
func Record(t *testing.T, upstream string, udp bool, fn func(addr string)) []byte {
	t.Helper()
	var out bytes.Buffer
	ready := make(chan net.Addr, 1)
	rec := &pcap.Recorder{Listen: "127.0.0.1:0", Upstream: upstream, UDP: udp, Out: &out, IdleTimeout: 5 * time.Second, Ready: func(a net.Addr) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	fn((<-ready).String())
	time.Sleep(50 * time.Millisecond) // let the proxy record the closes
	cancel()
	Must(t, <-done)
	return out.Bytes()
}

// ReplayRun collects a capture's conversations (dissected by sniffing and
// the well-known ports) and replays them with o.
func ReplayRun(t *testing.T, data []byte, o pcap.ReplayOptions) *reports.Run {
	t.Helper()
	r, err := pcap.Open(bytes.NewReader(data))
	Must(t, err)
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: map[uint16]string{}}, 0)
	Must(t, err)
	if o.StepTimeout == 0 {
		o.StepTimeout = 3 * time.Second
	}
	return pcap.Replay(context.Background(), convs, o)
}

// Fixed is a ReplayOptions.Open that always returns tgt, which the replay
// does not close.
func Fixed(tgt targets.Target) func(string) (targets.Target, error) {
	return func(string) (targets.Target, error) { return nopClose{tgt}, nil }
}

type nopClose struct{ targets.Target }

func (nopClose) Close() error { return nil }

// Check judges a capture's messages with the registered rules.
func Check(t *testing.T, data []byte) *reports.Run {
	t.Helper()
	c := pcap.NewChecker()
	sum, msgs, _ := Analyze(t, data, pcap.Options{})
	for _, m := range msgs {
		c.Message(m)
	}
	return c.Run("test", sum, time.Now(), "")
}

// States maps a run's spec IDs to the specs.
func States(run *reports.Run) map[string]reports.Spec {
	out := map[string]reports.Spec{}
	for _, s := range run.Specs {
		out[s.ID] = s
	}
	return out
}
