// Package naive_test proves that the DNS suite's forged-answer specs can
// fail: it runs them against a deliberately naive forwarder that sends every
// upstream query with one fixed ID from one fixed port and believes the
// first datagram that comes back to that port, from anyone.
package naive_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/reports"
	_ "github.com/protospec/protospec/suites/dns"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

// fixedID is the query ID of every upstream query the naive forwarder sends.
const fixedID = 0x4242

// naive is the forwarder: one client socket, one upstream socket with a
// fixed port, no checks of ID, source or question.
type naive struct {
	client, up net.PacketConn
	upstream   *net.UDPAddr
	wg         sync.WaitGroup
}

func startNaive(t *testing.T, upstream string) *naive {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		t.Fatal(err)
	}
	client, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &naive{client: client, up: up, upstream: ua}
	n.wg.Add(1)
	go n.serve()
	t.Cleanup(func() {
		client.Close()
		up.Close()
		n.wg.Wait()
	})
	return n
}

func (n *naive) serve() {
	defer n.wg.Done()
	buf := make([]byte, 65536)
	for {
		sz, from, err := n.client.ReadFrom(buf)
		if err != nil {
			return
		}
		q := new(mdns.Msg)
		if q.Unpack(buf[:sz]) != nil {
			continue
		}
		clientID := q.Id
		q.Id = fixedID
		n.drain()
		out, err := q.Pack()
		if err != nil {
			continue
		}
		n.up.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := n.up.WriteTo(out, n.upstream); err != nil {
			continue
		}
		// The flaw under test: the first datagram to the fixed port is
		// taken as the answer, whoever sent it and whatever its ID.
		reply := make([]byte, 65536)
		n.up.SetReadDeadline(time.Now().Add(2 * time.Second))
		rn, _, err := n.up.ReadFrom(reply)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		r := new(mdns.Msg)
		if r.Unpack(reply[:rn]) != nil {
			continue
		}
		r.Id = clientID
		r.RecursionAvailable = true
		if b, err := r.Pack(); err == nil {
			n.client.SetWriteDeadline(time.Now().Add(time.Second))
			n.client.WriteTo(b, from)
		}
	}
}

// drain drops datagrams that arrived after the last answer was taken, so
// that each client query is judged on what its own upstream query brings.
func (n *naive) drain() {
	buf := make([]byte, 65536)
	for {
		n.up.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := n.up.ReadFrom(buf); err != nil {
			return
		}
	}
}

// recordT is the GinkgoTestingT of this run: the specs are meant to fail,
// so a failure must not fail the Go test by itself.
type recordT struct{ failed bool }

func (r *recordT) Fail() { r.failed = true }

func TestNaiveResolverFailsForgedAnswerSpecs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	params, teardown, err := spec.Prepare(ctx, "dns")
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer teardown()
	n := startNaive(t, params["upstream"])
	target := &targets.Static{
		TargetName: "naive",
		Kind:       targets.KindAddress,
		Endpoints:  map[string]targets.Endpoint{"resolver/udp": {Network: "udp", Addr: n.client.LocalAddr().String()}},
		Otherwise:  "the naive forwarder offers UDP forwarding only",
	}
	run, err := spec.Execute(&recordT{}, spec.RunOptions{
		Protocol:    "dns",
		Config:      spec.Config{Target: target, StepTimeout: 2 * time.Second},
		LabelFilter: "rfc5452",
		Quiet:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]reports.Spec{}
	for _, s := range run.Specs {
		states[s.ID] = s
	}
	// Each spec must fail for its own reason: the forged address was
	// believed, or the measured entropy is too low.
	for id, reason := range map[string]string{
		"dns/rfc5452/9.1/wrong-id-ignored":             "192.0.2.66",
		"dns/rfc5452/9.1/wrong-source-port-ignored":    "192.0.2.66",
		"dns/rfc5452/9.1/wrong-source-address-ignored": "192.0.2.66",
		"dns/rfc5452/9.2/unpredictable-id":             "0.0 bits",
		"dns/rfc5452/9.2/unpredictable-port":           "0.0 bits",
		"dns/rfc5452/9.2/id-and-port-entropy":          "0.0 bits",
	} {
		s, ok := states[id]
		switch {
		case !ok:
			t.Errorf("%s did not run", id)
		case s.State != reports.StateFailed:
			t.Errorf("%s: %s against a naive forwarder (fixed ID, fixed port, believes anyone): %s", id, s.State, s.Message)
		case !strings.Contains(s.Message, reason):
			t.Errorf("%s failed, but not for the reason under test (want %q in the message):\n%s", id, reason, s.Message)
		}
	}
}
