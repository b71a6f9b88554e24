package pcap_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	idns "github.com/protospec/protospec/internal/dns"
	iecho "github.com/protospec/protospec/internal/echo"
	ihttp1 "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/protocol"
	. "github.com/protospec/protospec/pcap"
)

// TestRegistry: the rooms register under their contract's name, with the
// contract's well-known ports, and the engine's lists follow.
func TestRegistry(t *testing.T) {
	for _, name := range []string{idns.Name, iecho.Name, ihttp1.Name} {
		if !slices.Contains(Protocols(), name) {
			t.Errorf("no dissector for %s in %v", name, Protocols())
		}
	}
	if got := RuleProtocols(); !slices.Equal(got, []string{idns.Name, ihttp1.Name}) {
		t.Errorf("RuleProtocols %v", got)
	}
	if !slices.Contains(SynthProtocols(), ihttp1.Name) {
		t.Errorf("SynthProtocols %v", SynthProtocols())
	}
	ports := DefaultPorts()
	for _, c := range []protocol.Contract{idns.Contract, ihttp1.Contract} {
		for _, s := range c.Services {
			if ports[s.Port] != c.Name {
				t.Errorf("port %d of %s is %q", s.Port, s.Key(), ports[s.Port])
			}
		}
	}
	if ports[7] != iecho.Name || ports[8080] != ihttp1.Name {
		t.Errorf("ports 7 and 8080: %q, %q", ports[7], ports[8080])
	}
	for id, want := range map[string]uint16{
		"http1/rfc9112/3/x":          80,
		"dns/rfc1035/4.1.1/x":        53,
		"echo/rfc862/tcp/x":          7,
		"echo/rfc864/udp/x":          19,
		"echo/rfc867/tcp/x":          13,
		"echo/uppercase/tcp/x":       0,
		"gopher/rfc1436/x":           0,
		ihttp1.Name + "/rfc9110/8.6": 80,
	} {
		if got := CapturePort(id); got != want {
			t.Errorf("CapturePort(%q) = %d, want %d", id, got, want)
		}
	}
}

// reuseProto is a test-only protocol whose dissectors are Reusable: each
// flow's bytes of a side make one message at its end.
const reuseProto = "test-reuse"

var reuse struct {
	made, reset, released int
}

type reuseDissector struct {
	e   *Emitter
	buf [2][]byte
}

func (d *reuseDissector) Data(side Side, t time.Time, b []byte) {
	d.buf[side] = append(d.buf[side], b...)
}
func (d *reuseDissector) Lost(side Side, n int) {}
func (d *reuseDissector) End(side Side, t time.Time, reset bool) {
	if len(d.buf[side]) > 0 {
		m := d.e.NewMessage(side, t)
		m.Raw, m.Len, m.Summary = d.buf[side], int64(len(d.buf[side])), string(d.buf[side])
		d.e.Emit(m)
		d.buf[side] = nil
	}
}
func (d *reuseDissector) Reset(e *Emitter) {
	if e == nil {
		reuse.released++
	} else {
		reuse.reset++
	}
	d.e, d.buf = e, [2][]byte{}
}

func init() {
	Register(Protocol{Name: reuseProto, New: func(e *Emitter, udp bool) Dissector {
		reuse.made++
		return &reuseDissector{e: e}
	}})
}

// TestReusable: the dissector of a flow that ended serves the next flow
// (Reusable), and starts clean.
func TestReusable(t *testing.T) {
	srv := netip.MustParseAddrPort("127.0.0.1:6000")
	data := capture(t, func(w *Writer) {
		for i := range 3 {
			ts := t0.Add(time.Duration(i) * 10 * time.Second)
			tc := w.TCP(netip.AddrPortFrom(cli.Addr(), uint16(30000+i)), srv, "")
			must(t, tc.Data(ts, true, []byte{'a' + byte(i)}))
			must(t, tc.Data(ts, false, []byte{'A' + byte(i)}))
			must(t, tc.Close(ts))
		}
	})
	reuse.made, reuse.reset, reuse.released = 0, 0, 0
	_, msgs, flows := analyze(t, data, Options{DecodeAs: map[uint16]string{6000: reuseProto}})
	if len(flows) != 3 || reuse.made != 1 || reuse.reset != 2 || reuse.released != 3 {
		t.Fatalf("%d flows; dissectors made %d, reset %d, released %d", len(flows), reuse.made, reuse.reset, reuse.released)
	}
	if got := summaries(msgs); !slices.Equal(got, []string{"flow 1 -> client#0 a", "flow 1 <- server#0 A", "flow 2 -> client#0 b", "flow 2 <- server#0 B", "flow 3 -> client#0 c", "flow 3 <- server#0 C"}) {
		t.Errorf("messages %q", got)
	}
}
