package dns

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"github.com/miekg/dns"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	idns "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"
)

var update = flag.Bool("update", false, "rewrite testdata from the synthesizer")

var dnsSrv = pcaptest.Addr("127.0.0.1:53")

// TestDNSOverTCP frames length-prefixed messages, two in one segment and
// one split across segments, answered out of order.
func TestDNSOverTCP(t *testing.T) {
	q1, q2 := pcaptest.DNSQuery(1, "www.test."), pcaptest.DNSQuery(2, "mail.test.")
	a1, a2 := pcaptest.DNSAnswer(q1, "127.0.0.1"), pcaptest.DNSAnswer(q2, "127.0.0.2")
	prefix := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		tc := w.TCP(pcaptest.Client, dnsSrv, "")
		pcaptest.Must(t, tc.Handshake(pcaptest.T0))
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, append(prefix(q1), prefix(q2)...)))
		both := append(prefix(a2), prefix(a1)...)
		tc.MSS = 30
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, both))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
	})
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	want := "flow 1 -> client#0 dns query id=1 www.test. A IN\n" +
		"flow 1 -> client#1 dns query id=2 mail.test. A IN\n" +
		"flow 1 <- server#0 dns response NOERROR id=2 mail.test. A IN an=1 ns=0 ar=0 (answers #1)\n" +
		"flow 1 <- server#1 dns response NOERROR id=1 www.test. A IN an=1 ns=0 ar=0 (answers #0)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if InfoOf(msgs[2]).Answers[0] != "mail.test. 300 IN A 127.0.0.2" {
		t.Errorf("answers %q", InfoOf(msgs[2]).Answers)
	}
}

func TestCheckDNS(t *testing.T) {
	q := pcaptest.DNSQuery(1, "www.test.")
	good := pcaptest.DNSAnswer(q, "127.0.0.1")
	wrongID := pcaptest.DNSAnswer(pcaptest.DNSQuery(99, "www.test."), "127.0.0.1")
	wrongQ := pcaptest.DNSAnswer(pcaptest.DNSQuery(1, "mail.test."), "127.0.0.1")
	broken := append([]byte(nil), good...)
	broken[7] = 5 // ANCOUNT 5, one record present
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		for i, resp := range [][]byte{good, wrongID, wrongQ, broken} {
			c := pcaptest.Addr("127.0.0.1:" + strconv.Itoa(30000+i))
			pcaptest.Must(t, w.UDP(pcaptest.T0, c, dnsSrv, true, q, ""))
			pcaptest.Must(t, w.UDP(pcaptest.T0, dnsSrv, c, false, resp, ""))
		}
	})
	st := pcaptest.States(pcaptest.Check(t, data))
	for id, state := range map[string]string{
		ruleID:       reports.StateFailed,
		ruleQuestion: reports.StateFailed,
		ruleParses:   reports.StateFailed,
		ruleQR:       reports.StatePassed,
		ruleOpcode:   reports.StatePassed,
		ruleUDPSize:  reports.StatePassed,
	} {
		if st[id].State != state {
			t.Errorf("%s: %s, want %s\n%s", id, st[id].State, state, st[id].Message)
		}
	}
}

func TestReplayDNS(t *testing.T) {
	ref := pcaptest.OpenReference(t, idns.Name)
	ep, err := ref.Endpoint("dns/udp")
	pcaptest.Must(t, err)
	data := pcaptest.Record(t, ep.Addr, true, func(addr string) {
		c, err := net.Dial("udp", addr)
		pcaptest.Must(t, err)
		defer c.Close()
		for i, name := range []string{"www.test.", "mail.test.", "nothere.test."} {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			c.Write(pcaptest.DNSQuery(uint16(100+i), name))
			buf := make([]byte, 4096)
			_, err := c.Read(buf)
			pcaptest.Must(t, err)
		}
	})
	port := ep.Addr[strings.LastIndexByte(ep.Addr, ':')+1:]
	da, _ := pcap.ParseDecodeAs([]string{port + "=" + idns.Name})
	r, _ := pcap.Open(bytes.NewReader(data))
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: da}, 0)
	pcaptest.Must(t, err)
	run := pcap.Replay(context.Background(), convs, pcap.ReplayOptions{Open: pcaptest.Fixed(ref), StepTimeout: 3 * time.Second})
	if len(run.Specs) != 1 || run.Specs[0].State != reports.StatePassed {
		t.Fatalf("replay: %+v", run.Specs)
	}
	// A capture whose recorded answer differs from what the server says.
	q := pcaptest.DNSQuery(7, "www.test.")
	fake := pcaptest.Capture(t, func(w *pcap.Writer) {
		pcaptest.Must(t, w.UDP(pcaptest.T0, pcaptest.Client, dnsSrv, true, q, ""))
		pcaptest.Must(t, w.UDP(pcaptest.T0, dnsSrv, pcaptest.Client, false, pcaptest.DNSAnswer(q, "127.0.0.99"), ""))
	})
	run = pcaptest.ReplayRun(t, fake, pcap.ReplayOptions{Open: pcaptest.Fixed(ref), Ignore: []string{ignoreFlags, ignoreAuthority, ignoreAdditional}})
	sp := run.Specs[0]
	if sp.State != reports.StateFailed || !strings.Contains(sp.Message, "answer section: recorded www.test. 0 in a 127.0.0.99 / replayed www.test. 0 in a 127.0.0.1") {
		t.Fatalf("%s\n%s", sp.State, sp.Message)
	}
}

// goldenCaptures makes the checked-in capture: a classic big-endian pcap
// with nanosecond timestamps of DNS over UDP and TCP.
func goldenCaptures(t *testing.T) map[string][]byte {
	q1, q2 := pcaptest.DNSQuery(1, "www.test."), pcaptest.DNSQuery(2, "mail.test.")
	ng := pcaptest.Capture(t, func(w *pcap.Writer) {
		pcaptest.Must(t, w.UDP(pcaptest.T0, pcaptest.Client, dnsSrv, true, q1, ""))
		pcaptest.Must(t, w.UDP(pcaptest.T0, dnsSrv, pcaptest.Client, false, pcaptest.DNSAnswer(q1, "127.0.0.1"), ""))
		tc := w.TCP(pcaptest.Addr("127.0.0.1:40002"), dnsSrv, "")
		pre := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, pre(q2)))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, pre(pcaptest.DNSAnswer(q2, "127.0.0.2"))))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
	})
	return map[string][]byte{
		"dns-be-nano.pcap": pcaptest.Classic(binary.BigEndian, true, layers.LinkTypeEthernet, 65535, pcaptest.Packets(t, ng)),
	}
}

// TestGolden dissects the checked-in captures and compares with the
// .txt next to each; go test ./pcap/dns -run TestGolden -update rewrites
// both.
func TestGolden(t *testing.T) {
	var caps map[string][]byte
	if *update {
		caps = goldenCaptures(t)
	}
	pcaptest.Golden(t, *update, caps)
}

// An extended RCODE of 16 in a response with OPT is BADVERS.
func TestBadVersName(t *testing.T) {
	var r dns.Msg
	r.SetQuestion("www.test.", dns.TypeA)
	r.Response = true
	r.SetEdns0(1232, false)
	r.Rcode = dns.RcodeBadVers
	b, err := r.Pack()
	pcaptest.Must(t, err)
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		pcaptest.Must(t, w.UDP(pcaptest.T0, dnsSrv, pcaptest.Client, false, b, ""))
	})
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	if len(msgs) != 1 || InfoOf(msgs[0]).Rcode != "BADVERS" {
		t.Fatalf("messages %v", pcaptest.Summaries(msgs))
	}
}
