package pcap_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	. "github.com/protospec/protospec/pcap"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/protospec/protospec/pcap/http1"
)

// stressCapture writes a capture of TCP and UDP flows over many minutes
// of capture time: idle gaps long and short, timestamps out of order,
// holes, FINs the peer does not acknowledge, resets, half-closed flows.
func stressCapture(t testing.TB, seed int64, steps int) []byte {
	rng := rand.New(rand.NewSource(seed))
	return capture(t, func(w *Writer) {
		type flow struct {
			tc     *TCPConn
			cl, sv netip.AddrPort
		}
		var flows []flow
		ports := []uint16{80, 80, 80, 7, 9999, 8080}
		for i := range 120 {
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 3, byte(i)}), uint16(20000+i))
			if rng.Intn(5) == 0 {
				flows = append(flows, flow{cl: cl, sv: dnsSrv})
				continue
			}
			sv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ports[rng.Intn(len(ports))])
			flows = append(flows, flow{tc: w.TCP(cl, sv, ""), cl: cl, sv: sv})
		}
		now := t0
		for n := range steps {
			switch r := rng.Intn(100); {
			case r < 3:
				now = now.Add(time.Duration(rng.Intn(300)) * time.Second)
			case r < 20:
				now = now.Add(time.Duration(rng.Intn(8000)) * time.Millisecond)
			default:
				now = now.Add(time.Duration(rng.Intn(50)) * time.Millisecond)
			}
			ts := now
			if rng.Intn(15) == 0 {
				ts = now.Add(-time.Duration(rng.Intn(20000)) * time.Millisecond)
			}
			f := flows[rng.Intn(len(flows))]
			fromClient := rng.Intn(2) == 0
			if f.tc == nil {
				q := dnsQuery(uint16(rng.Intn(5)), "www.test.")
				if fromClient {
					must(t, w.UDP(ts, f.cl, f.sv, true, q, ""))
				} else {
					must(t, w.UDP(ts, f.sv, f.cl, false, dnsAnswer(q, "127.0.0.1"), ""))
				}
				continue
			}
			c := f.tc
			hole := func() {
				if fromClient {
					*c.Seq(true) += uint32(1 + rng.Intn(3000))
				} else {
					*c.Seq(false) += uint32(1 + rng.Intn(3000))
				}
			}
			// Errors are for data after a FIN or a reset: skipped.
			switch a := rng.Intn(100); {
			case a < 50:
				msg := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello%d", n)
				if fromClient {
					msg = fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", n)
				}
				if rng.Intn(4) == 0 {
					msg = msg[:rng.Intn(len(msg))]
				}
				_ = c.Data(ts, fromClient, []byte(msg))
			case a < 62:
				hole()
				_ = c.Data(ts, fromClient, []byte(strings.Repeat("z", 1+rng.Intn(1500))))
			case a < 70:
				hole()
				must(t, c.Segment(ts, fromClient, "P", []byte(strings.Repeat("y", 1+rng.Intn(900)))))
				must(t, c.Segment(ts, fromClient, "F", nil))
			case a < 75:
				must(t, c.Ack(ts, fromClient))
			case a < 85:
				must(t, c.Fin(ts, fromClient))
			case a < 90:
				must(t, c.Reset(ts, fromClient))
			case a < 95:
				must(t, c.Close(ts))
			default:
				must(t, c.Handshake(ts))
			}
		}
	})
}

// transcript runs Analyze and writes down everything it reports, in
// order.
func transcript(t *testing.T, data []byte, o Options) string {
	t.Helper()
	var b strings.Builder
	r, err := Open(bytes.NewReader(data))
	if err != nil {
		return "open: " + err.Error()
	}
	o.OnMessage = func(m *Message) {
		j, err := json.Marshal(m)
		must(t, err)
		fmt.Fprintf(&b, "m %s\n  %s\n  %q\n", m, j, m.Raw)
	}
	o.OnFlow = func(f *Flow) {
		j, err := json.Marshal(f)
		must(t, err)
		fmt.Fprintf(&b, "f %s\n", j)
	}
	o.OnProgress = func(p Progress) { fmt.Fprintf(&b, "p %+v\n", p) }
	sum, err := Analyze(r, o)
	j, _ := json.Marshal(sum)
	fmt.Fprintf(&b, "sum %v %s\n", err, j)
	return b.String()
}

// TestPipelineMatchesSerial checks that reading in a goroutine of its own
// changes nothing Analyze reports, nor its order.
func TestPipelineMatchesSerial(t *testing.T) {
	caps := map[string][]byte{}
	names, _ := filepath.Glob("testdata/*")
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(n, ".txt") {
			b, err := os.ReadFile(n)
			must(t, err)
			caps[n] = b
		}
	}
	var big bytes.Buffer
	must(t, http1.Synth(&big, 3500)) // past ProgressEvery packets
	caps["synth"] = big.Bytes()
	// Progress is reported before the packet ProgressEvery: a SYN, the
	// end of a request, after frames that are not IP.
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	for _, pad := range []int{ProgressEvery - 1, ProgressEvery - 4, ProgressEvery - 5} {
		caps[fmt.Sprint("progress", pad)] = capture(t, func(w *Writer) {
			for range pad {
				must(t, w.WriteFrame(t0, arp, ""))
			}
			httpExchange(t, w, cli, t0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
		})
	}
	for seed := range int64(3) {
		s := stressCapture(t, seed, 1500)
		caps[fmt.Sprint("stress", seed)] = s
		caps[fmt.Sprint("stress-cut", seed)] = s[:len(s)*2/3]
	}
	// Reordered, duplicated and dropped packets, cut by the snap length.
	rng := rand.New(rand.NewSource(1))
	var pkts []rawPacket
	for i, p := range capturePackets(t, caps["stress0"]) {
		switch {
		case i%17 == 0:
			continue
		case i%11 == 0:
			pkts = append(pkts, p, p)
		case i%5 == 0 && len(pkts) > 0:
			j := rng.Intn(len(pkts))
			pkts = append(pkts, pkts[j])
			pkts[j] = p
		default:
			pkts = append(pkts, p)
		}
	}
	caps["shuffled"] = classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 120, pkts)
	opts := []Options{
		{},
		{KeepRaw: true, MaxBuffer: 3000},
		{MaxFlows: 10, IdleTimeout: 3 * time.Second, MaxMessage: 20, KeepRaw: true},
	}
	defer func() { *SerialOnly = false }()
	for name, data := range caps {
		for i, o := range opts {
			*SerialOnly = true
			want := transcript(t, data, o)
			*SerialOnly = false
			if got := transcript(t, data, o); got != want {
				t.Errorf("%s, options %d: pipelined and serial differ\n%s", name, i, firstDiff(got, want))
			}
		}
	}
}

// capturePackets returns the packets of a capture.
func capturePackets(t *testing.T, data []byte) []rawPacket {
	r, err := Open(bytes.NewReader(data))
	must(t, err)
	var out []rawPacket
	for {
		p, err := r.Next()
		if err != nil {
			return out
		}
		out = append(out, rawPacket{TS: p.Timestamp, Data: append([]byte(nil), p.Data...), OrigLen: p.OrigLen})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(al), len(bl))
}

// TestExpiry checks the flows gc ends, found through the expiry heap,
// against a look at every flow (*CheckExpiry panics on a difference).
func TestExpiry(t *testing.T) {
	*CheckExpiry = true
	defer func() { *CheckExpiry = false }()
	opts := []Options{
		{},
		{IdleTimeout: 3 * time.Second},
		{IdleTimeout: 7 * time.Second, MaxBuffer: 3000, MaxFlowBuffer: 1500},
		{MaxBuffer: 1000},
		{MaxBuffer: 4000, IdleTimeout: 20 * time.Second},
		{MaxFlows: 20, IdleTimeout: 30 * time.Second},
		{IdleTimeout: time.Millisecond},
	}
	for seed := range int64(8) {
		data := stressCapture(t, seed, 2500)
		for _, o := range opts {
			r, err := Open(bytes.NewReader(data))
			must(t, err)
			if _, err := Analyze(r, o); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestAnalyzeStream reads a capture from a pipe: the messages of the
// packets written come out before the next packets are.
func TestAnalyzeStream(t *testing.T) {
	pkts := frames(t) // handshake, request, response, FIN exchange
	data := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts)
	split := 24
	for _, p := range pkts[:4] {
		split += 16 + len(p.Data)
	}
	pr, pw := io.Pipe()
	got := make(chan *Message, 4)
	done := make(chan error, 1)
	go func() {
		r, err := Open(pr)
		if err != nil {
			done <- err
			return
		}
		_, err = Analyze(r, Options{OnMessage: func(m *Message) { got <- m }})
		done <- err
	}()
	// The header, then the packets through the request, one at a time.
	must(t, write(pw, data[:24]))
	for off := 24; off < split; {
		n := 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
		must(t, write(pw, data[off:off+n]))
		off += n
	}
	select {
	case m := <-got:
		if m.Side != Client {
			t.Fatalf("first message %s", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not come out before more packets came")
	}
	must(t, write(pw, data[split:]))
	pw.Close()
	must(t, <-done)
	if m := <-got; m.Side != Server {
		t.Fatalf("second message %s", m)
	}
}

func write(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}

// panicReader panics once its bytes run out.
type panicReader struct{ b []byte }

func (p *panicReader) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		panic("panicReader")
	}
	n := copy(b, p.b)
	p.b = p.b[n:]
	return n, nil
}

// TestAnalyzePanic checks that a panic while reading reaches the caller
// of Analyze, as it does without the reading goroutine.
func TestAnalyzePanic(t *testing.T) {
	var buf bytes.Buffer
	must(t, http1.Synth(&buf, 100))
	for _, serial := range []bool{true, false} {
		*SerialOnly = serial
		r, err := Open(&panicReader{buf.Bytes()[:buf.Len()/2]})
		must(t, err)
		func() {
			defer func() {
				if p := recover(); p != "panicReader" {
					t.Errorf("serial %v: recovered %v", serial, p)
				}
			}()
			Analyze(r, Options{})
		}()
	}
	*SerialOnly = false
}
