package pcap_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	dnsmsg "github.com/miekg/dns"
	"github.com/protospec/protospec/pcap/dns"
	"net/netip"
	"strconv"
	"strings"

	"bytes"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"

	"github.com/protospec/protospec/pcap/http1"
	"testing"
	"time"

	. "github.com/protospec/protospec/pcap"
)

// Defects found on real-world captures, each on a crafted capture that
// shows it.

// A client reusing its source port: three connections on one 4-tuple,
// the first ended by FIN, the second by RST, the third left open with a
// new SYN on it (another sequence number), each a flow of its own with
// all its messages.
func TestFourTupleReuse(t *testing.T) {
	data := capture(t, func(w *Writer) {
		ts := t0
		conn := func(isn uint32) *TCPConn {
			tc := w.TCP(cli, httpSrv, "")
			*tc.Seq(true) += isn
			must(t, tc.Handshake(ts))
			ts = ts.Add(time.Millisecond)
			must(t, tc.Data(ts, true, []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")))
			ts = ts.Add(time.Millisecond)
			must(t, tc.Data(ts, false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")))
			ts = ts.Add(time.Millisecond)
			return tc
		}
		must(t, conn(0).Close(ts))
		ts = ts.Add(time.Millisecond)
		tc := conn(1 << 20)
		must(t, tc.Segment(ts, true, "RA", nil))
		ts = ts.Add(time.Millisecond)
		conn(2 << 20) // open: superseded by the next SYN
		ts = ts.Add(time.Millisecond)
		must(t, conn(3<<20).Close(ts))
	})
	sum, msgs, flows := analyze(t, data, Options{})
	if sum.Flows != 4 || len(flows) != 4 {
		t.Fatalf("%d flows (%d ended), want 4", sum.Flows, len(flows))
	}
	if len(msgs) != 8 || sum.Messages != 8 {
		t.Fatalf("%d messages (%d counted), want 8", len(msgs), sum.Messages)
	}
	ends := map[int]string{}
	for _, f := range flows {
		ends[f.ID] = f.End
		if f.Messages != 2 || f.Gaps != 0 || f.MidStream {
			t.Errorf("flow %d: %d messages, %d gaps, mid-stream %v; want 2, 0, false", f.ID, f.Messages, f.Gaps, f.MidStream)
		}
	}
	want := map[int]string{1: "fin", 2: "rst", 3: "reused", 4: "fin"}
	for id, e := range want {
		if ends[id] != e {
			t.Errorf("flow %d ended %q, want %q (all: %v)", id, ends[id], e, ends)
		}
	}
	if sum.Reused != 3 {
		t.Errorf("%d reused, want 3", sum.Reused)
	}
}

// A retransmitted SYN is no new connection.
func TestSYNRetransmitSameFlow(t *testing.T) {
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, httpSrv, "")
		must(t, tc.Segment(t0, true, "S", nil))
		*tc.Seq(true) -= 1
		must(t, tc.Segment(t0.Add(time.Second), true, "S", nil))
		*tc.Seq(true) -= 1
		tc.SetOpen()
		must(t, tc.Segment(t0.Add(time.Second), true, "S", nil))
		must(t, tc.Segment(t0.Add(time.Second), false, "SA", nil))
		must(t, tc.Data(t0.Add(2*time.Second), true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Data(t0.Add(2*time.Second), false, []byte("HTTP/1.1 204 No Content\r\n\r\n")))
		must(t, tc.Close(t0.Add(3*time.Second)))
	})
	sum, _, _ := analyze(t, data, Options{})
	if sum.Flows != 1 || sum.Messages != 2 || sum.Reused != 0 {
		t.Fatalf("%d flows, %d messages, %d reused; want 1, 2, 0", sum.Flows, sum.Messages, sum.Reused)
	}
}

// A flow that ended keeps only its summary: the flows a caller holds on
// to cost no reassembly or dissection state.
func TestEndedFlowsReleaseState(t *testing.T) {
	var buf bytes.Buffer
	must(t, http1.Synth(&buf, 300))
	_, _, flows := analyze(t, buf.Bytes(), Options{})
	if len(flows) != 300 {
		t.Fatalf("%d flows, want 300", len(flows))
	}
	for _, f := range flows {
		if !f.Released() {
			t.Fatalf("flow %d ended %q and still holds its state", f.ID, f.End)
		}
	}
}

// The capture's own gaps are not the server's violations: a flow cut by
// the end of the capture, one that began mid-connection, one direction
// only, answers whose queries the capture lacks, and mDNS, LLMNR and
// NBNS traffic (not unicast DNS) fail no rule.
func TestCheckCaptureGaps(t *testing.T) {
	data := capture(t, func(w *Writer) {
		ts := t0
		// Cut by the end of the capture in the middle of a body.
		tc := w.TCP(addr("127.0.0.1:40001"), httpSrv, "")
		must(t, tc.Handshake(ts))
		must(t, tc.Data(ts, true, []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Data(ts, false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")))
		// Begun mid-connection: the response's request is not captured.
		tc = w.TCP(addr("127.0.0.1:40002"), httpSrv, "")
		tc.SetOpen()
		must(t, tc.Data(ts, false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))
		must(t, tc.Data(ts, true, []byte("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Close(ts))
		// One direction only: the server's.
		tc = w.TCP(addr("127.0.0.1:40003"), httpSrv, "")
		tc.SetOpen()
		must(t, tc.Segment(ts, false, "PA", []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")))
		// An answer whose query is not in the capture.
		q := dnsQuery(7, "www.test.")
		must(t, w.UDP(ts, dnsSrv, addr("127.0.0.1:40004"), false, dnsAnswer(q, "127.0.0.1"), ""))
		// mDNS, LLMNR and NBNS: DNS-shaped, other rules (a response with
		// no query; multicast answers carry ID 0).
		for _, port := range []uint16{5353, 5355, 137} {
			ep := addr("224.0.0.251:" + strconv.Itoa(int(port)))
			src := addr("127.0.0.9:" + strconv.Itoa(int(port)))
			must(t, w.UDP(ts, src, ep, false, dnsAnswer(dnsQuery(0, "host.local."), "127.0.0.9"), ""))
			must(t, w.UDP(ts, addr("127.0.0.10:"+strconv.Itoa(int(port))), ep, true, dnsQuery(0, "other.local."), ""))
		}
	})
	sum, _, flows := analyze(t, data, Options{})
	for _, f := range flows {
		if f.Server.Port() != 53 && f.Server.Port() != 80 && f.Proto != "" {
			t.Errorf("flow %s read as %s", f, f.Proto)
		}
	}
	if sum.Flows != 10 {
		t.Errorf("%d flows, want 10", sum.Flows)
	}
	run := pcaptest.Check(t, data)
	judged := 0
	for _, sp := range run.Specs {
		if sp.State == reports.StateFailed {
			t.Errorf("%s failed on the capture's gaps:\n%s", sp.ID, sp.Message)
		}
		if strings.Contains(sp.Message, "not judgeable") {
			t.Logf("%s: %s: %s", sp.ID, sp.State, sp.Message)
			judged++
		}
	}
	if judged == 0 {
		t.Error("no spec says what is not judgeable")
	}
}

// DNS over TCP resynchronises after a hole: on the next segment that
// starts a message when the hole's end is unknown, and exactly when the
// length of the message the hole cuts was read before it.
func TestDNSOverTCPAfterGap(t *testing.T) {
	prefix := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
	q := func(id uint16) []byte { return dnsQuery(id, "www.test.") }
	a := func(id uint16) []byte { return prefix(dnsAnswer(q(id), "127.0.0.1")) }
	data := capture(t, func(w *Writer) {
		ts := t0
		tc := w.TCP(cli, dnsSrv, "")
		must(t, tc.Handshake(ts))
		send := func(b []byte) { must(t, tc.Segment(ts, true, "PA", b)) }
		lose := func(n int) { *tc.Seq(true) += uint32(n) }
		send(prefix(q(1)))
		must(t, tc.Data(ts, false, a(1)))
		lose(len(prefix(q(2)))) // a whole message
		send(prefix(q(3)))
		must(t, tc.Data(ts, false, a(3)))
		two := append(prefix(q(4)), prefix(q(5))...)
		send(two[:10])
		lose(10) // inside message 4, its length read
		send(two[20:])
		must(t, tc.Data(ts, false, a(5)))
		must(t, tc.Close(ts))
	})
	_, msgs, flows := analyze(t, data, Options{})
	var got []string
	for _, m := range msgs {
		if i := dns.InfoOf(m); i != nil && !m.Incomplete {
			got = append(got, fmt.Sprintf("%s %d answers %d", m.Side, i.ID, m.Answers))
		}
	}
	want := "client 1 answers -1,server 1 answers 0,client 3 answers -1,server 3 answers 1,client 5 answers -1,server 5 answers 3"
	if strings.Join(got, ",") != want {
		t.Fatalf("got %s\nwant %s", strings.Join(got, ","), want)
	}
	if len(flows) != 1 || flows[0].Gaps != 2 {
		t.Fatalf("flows %v, want one with 2 gaps", flows)
	}
}

// An HTTP header section cut by a hole, or by the snap length (a
// tcpdump -s 200 capture), is shown as far as it was seen, marked
// truncated, not dropped.
func TestHTTPHeadCutShown(t *testing.T) {
	req := "GET /long HTTP/1.1\r\nHost: x\r\nUser-Agent: " + strings.Repeat("a", 300) + "\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nServer: " + strings.Repeat("s", 300) + "\r\nContent-Length: 0\r\n\r\n"
	hole := capture(t, func(w *Writer) {
		tc := w.TCP(cli, httpSrv, "")
		must(t, tc.Handshake(t0))
		must(t, tc.Segment(t0, true, "PA", []byte(req[:40])))
		*tc.Seq(true) += 20
		must(t, tc.Segment(t0, true, "PA", []byte(req[60:])))
		must(t, tc.Data(t0, false, []byte(resp)))
		must(t, tc.Close(t0))
	})
	snapped := classic(binary.LittleEndian, false, 1, 200, pcaptest.Packets(t, capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, req, resp, req, resp)
	})))
	for name, data := range map[string][]byte{"hole": hole, "snap length": snapped} {
		_, msgs, _ := analyze(t, data, Options{})
		var seen []string
		for _, m := range msgs {
			if m.Truncated && strings.Contains(m.Summary, map[Side]string{Client: "GET /long HTTP/1.1", Server: "HTTP/1.1 200 OK"}[m.Side]) {
				seen = append(seen, m.Side.String())
			}
		}
		want := "client"
		if name == "snap length" {
			want = "client,server,client,server"
		}
		t.Logf("%s:\n%s", name, strings.Join(summaries(msgs), "\n"))
		if strings.Join(seen, ",") != want {
			t.Errorf("%s: truncated heads shown %v, want %s; messages:\n%s", name, seen, want, strings.Join(summaries(msgs), "\n"))
		}
	}
}

// fragments writes a UDP datagram as IP fragments of at most 64 bytes of
// payload each, in the order given by perm (nil: in order).
func fragments(t *testing.T, w *Writer, ts time.Time, src, dst netip.AddrPort, payload []byte, id uint32, perm []int) {
	t.Helper()
	udp := binary.BigEndian.AppendUint16(nil, src.Port())
	udp = binary.BigEndian.AppendUint16(udp, dst.Port())
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(payload)))
	udp = append(udp, 0, 0) // no checksum
	udp = append(udp, payload...)
	var chunks [][]byte
	for off := 0; off < len(udp); off += 64 {
		chunks = append(chunks, udp[off:min(off+64, len(udp))])
	}
	if perm == nil {
		for i := range chunks {
			perm = append(perm, i)
		}
	}
	v6 := src.Addr().Is6()
	for _, i := range perm {
		off, more := i*64, i < len(chunks)-1
		eth := make([]byte, 12)
		var ip []byte
		if v6 {
			eth = append(eth, 0x86, 0xdd)
			ip = []byte{0x60, 0, 0, 0}
			ip = binary.BigEndian.AppendUint16(ip, uint16(8+len(chunks[i])))
			ip = append(ip, 44, 64)
			ip = append(ip, src.Addr().AsSlice()...)
			ip = append(ip, dst.Addr().AsSlice()...)
			fo := uint16(off)
			if more {
				fo |= 1
			}
			ip = append(ip, 17, 0)
			ip = binary.BigEndian.AppendUint16(ip, fo)
			ip = binary.BigEndian.AppendUint32(ip, id)
		} else {
			eth = append(eth, 0x08, 0x00)
			ip = []byte{0x45, 0}
			ip = binary.BigEndian.AppendUint16(ip, uint16(20+len(chunks[i])))
			ip = binary.BigEndian.AppendUint16(ip, uint16(id))
			fo := uint16(off / 8)
			if more {
				fo |= 0x2000
			}
			ip = binary.BigEndian.AppendUint16(ip, fo)
			ip = append(ip, 64, 17, 0, 0)
			ip = append(ip, src.Addr().AsSlice()...)
			ip = append(ip, dst.Addr().AsSlice()...)
		}
		frame := append(append(eth, ip...), chunks[i]...)
		must(t, w.WriteFrame(ts, frame, ""))
	}
}

// IPv4 and IPv6 fragments are reassembled: a large DNS answer over
// fragmented UDP is one message, and no fragment makes a bogus flow.
func TestFragmentsReassembled(t *testing.T) {
	for _, v := range []struct {
		name     string
		cli, srv netip.AddrPort
	}{
		{"ipv4", addr("127.0.0.1:40000"), addr("127.0.0.1:53")},
		{"ipv6", addr("[::1]:40000"), addr("[::1]:53")},
	} {
		t.Run(v.name, func(t *testing.T) {
			q := dnsQuery(5, "big.test.")
			var msg dnsmsg.Msg
			must(t, msg.Unpack(dnsAnswer(q, "127.0.0.1")))
			for i := range 40 {
				msg.Answer = append(msg.Answer, &dnsmsg.TXT{Hdr: dnsmsg.RR_Header{Name: "big.test.", Rrtype: dnsmsg.TypeTXT, Class: dnsmsg.ClassINET, Ttl: 60}, Txt: []string{strings.Repeat("x", 20+i)}})
			}
			big, err := msg.Pack()
			must(t, err)
			data := capture(t, func(w *Writer) {
				must(t, w.UDP(t0, v.cli, v.srv, true, q, ""))
				n := (8 + len(big) + 63) / 64
				perm := []int{n - 1}
				for i := range n - 1 {
					perm = append(perm, i) // the last first, then in order
				}
				fragments(t, w, t0, v.srv, v.cli, big, 77, perm)
				// An incomplete datagram: counted, no flow.
				fragments(t, w, t0, v.srv, addr(strings.Replace(v.cli.String(), "40000", "40001", 1)), big, 78, []int{1, 2})
			})
			sum, msgs, flows := analyze(t, data, Options{})
			if len(flows) != 1 || len(msgs) != 2 {
				t.Fatalf("%d flows, %d messages, want 1 and 2:\n%s", len(flows), len(msgs), strings.Join(summaries(msgs), "\n"))
			}
			if m := msgs[1]; m.Len != int64(len(big)) || m.Incomplete || m.Truncated || m.Answers != 0 {
				t.Fatalf("answer %s: len %d (want %d), incomplete %v, truncated %v, answers %d", m.Summary, m.Len, len(big), m.Incomplete, m.Truncated, m.Answers)
			}
			if sum.Decode.Reassembled != 1 || sum.Decode.Fragments != 2 {
				t.Fatalf("decode %+v, want 1 reassembled and 2 fragments left", sum.Decode)
			}
		})
	}
}

// Timestamps beyond year 9999 (a damaged or crafted capture) are written
// in JSON as the table shows them.
func TestJSONFarTimestamps(t *testing.T) {
	far := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	pkts := pcaptest.Packets(t, capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
	}))
	// pcapng with microsecond timestamps reaches that far.
	data := bigEndianNG(1, pkts)
	data = bytes.Replace(data, []byte{0, 9, 0, 1, 9}, []byte{0, 9, 0, 1, 6}, 1)
	off := 28 + 32 // the section and interface blocks
	for _, p := range pkts {
		us := uint64(far.Unix())*1e6 + uint64(p.TS.Sub(t0).Microseconds())
		binary.BigEndian.PutUint32(data[off+12:], uint32(us>>32))
		binary.BigEndian.PutUint32(data[off+16:], uint32(us))
		off += int(binary.BigEndian.Uint32(data[off+4:]))
	}
	sum, msgs, flows := analyze(t, data, Options{})
	for _, v := range []any{sum, flows, msgs} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json: %v", err)
		}
		if !strings.Contains(string(b), `"12000-01-01T00:00:00`) {
			t.Fatalf("json without the far time: %s", b)
		}
	}
	b, err := json.Marshal(flows[0])
	must(t, err)
	var back map[string]any
	must(t, json.Unmarshal(b, &back))
	if back["id"] != 1.0 || back["end"] != "fin" || back["proto"] == nil {
		t.Fatalf("flow json %s", b)
	}
}

// A reset with a sequence number out of the window ends nothing: the
// connection goes on, every message is read.
func TestRSTOutOfWindowIgnored(t *testing.T) {
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, httpSrv, "")
		must(t, tc.Handshake(t0))
		must(t, tc.Data(t0, true, []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Data(t0, false, []byte("HTTP/1.1 204 No Content\r\n\r\n")))
		seq := tc.Seq(true)
		*seq += 1 << 30
		must(t, tc.Segment(t0, true, "R", nil))
		*seq -= 1 << 30
		must(t, tc.Data(t0, true, []byte("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Data(t0, false, []byte("HTTP/1.1 204 No Content\r\n\r\n")))
		must(t, tc.Segment(t0, true, "RA", nil)) // in window: ends it
	})
	sum, _, flows := analyze(t, data, Options{})
	if sum.Messages != 4 || len(flows) != 1 || flows[0].IgnoredRST != 1 || flows[0].End != "rst" || flows[0].AfterEnd != 0 {
		t.Fatalf("%d messages, flows %+v; want 4 messages, one flow ended by rst with 1 ignored", sum.Messages, flows)
	}
}

// Cleartext HTTP/2 with prior knowledge is not read as HTTP/1, on the
// HTTP port or elsewhere: the flows are left undissected, check fails
// nothing.
func TestH2PriorKnowledgeUndissected(t *testing.T) {
	preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	settings := "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	data := capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, preface, settings)
		pcaptest.Exchange(t, w, cli, addr("127.0.0.1:8080"), t0, preface, settings)
	})
	sum, msgs, flows := analyze(t, data, Options{})
	if len(msgs) != 0 || sum.Messages != 0 {
		t.Fatalf("messages:\n%s", strings.Join(summaries(msgs), "\n"))
	}
	for _, f := range flows {
		if f.Proto != "" {
			t.Errorf("flow %s read as %q", f, f.Proto)
		}
	}
	for _, sp := range pcaptest.Check(t, data).Specs {
		if sp.State == reports.StateFailed {
			t.Errorf("%s failed:\n%s", sp.ID, sp.Message)
		}
	}
}
