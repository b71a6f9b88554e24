package pcap

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
	_ "github.com/protospec/protospec/targets/reference"
)

func openRef(t *testing.T, proto string) targets.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tgt, err := targets.Open(ctx, "reference", targets.Options{Protocol: proto})
	must(t, err)
	t.Cleanup(func() { tgt.Close() })
	return tgt
}

// record runs the recording proxy in front of upstream while fn talks to
// the proxy's address, and returns the capture.
func record(t *testing.T, upstream string, udp bool, fn func(addr string)) []byte {
	t.Helper()
	var out bytes.Buffer
	ready := make(chan net.Addr, 1)
	rec := &Recorder{Listen: "127.0.0.1:0", Upstream: upstream, UDP: udp, Out: &out, IdleTimeout: 5 * time.Second, Ready: func(a net.Addr) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	fn((<-ready).String())
	time.Sleep(50 * time.Millisecond) // let the proxy record the closes
	cancel()
	must(t, <-done)
	return out.Bytes()
}

func replayRun(t *testing.T, data []byte, o ReplayOptions) *reports.Run {
	t.Helper()
	r, err := Open(bytes.NewReader(data))
	must(t, err)
	convs, _, err := Collect(r, Options{DecodeAs: map[uint16]string{}}, 0)
	must(t, err)
	if o.StepTimeout == 0 {
		o.StepTimeout = 3 * time.Second
	}
	return Replay(context.Background(), convs, o)
}

func fixed(tgt targets.Target) func(string) (targets.Target, error) {
	return func(string) (targets.Target, error) { return nopClose{tgt}, nil }
}

type nopClose struct{ targets.Target }

func (nopClose) Close() error { return nil }

func TestReplayHTTP(t *testing.T) {
	ref := openRef(t, "http1")
	ep, err := ref.Endpoint("http/tcp")
	must(t, err)
	data := record(t, ep.Addr, false, func(addr string) {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		must(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"+
			"HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /session HTTP/1.1\r\nHost: x\r\n\r\n"+
			"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"+
			"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		io.ReadAll(c)
	})
	port := ep.Addr[strings.LastIndexByte(ep.Addr, ':')+1:]
	r, _ := Open(bytes.NewReader(data))
	da, _ := ParseDecodeAs([]string{port + "=http1"})
	convs, _, err := Collect(r, Options{DecodeAs: da}, 0)
	must(t, err)
	if len(convs) != 1 || len(convs[0].Messages) != 10 {
		t.Fatalf("recorded %d flows", len(convs))
	}
	run := Replay(context.Background(), convs, ReplayOptions{Open: fixed(ref), StepTimeout: 3 * time.Second, Source: "rec"})
	if len(run.Specs) != 1 || run.Specs[0].State != reports.StatePassed || run.Kind != reports.KindReplay {
		t.Fatalf("replay against the same server: %+v", run.Specs)
	}
	if !strings.HasPrefix(run.Specs[0].ID, "replay/http1/flow/1-") || len(run.Specs[0].Transcript) < 6 {
		t.Errorf("spec %s, %d events", run.Specs[0].ID, len(run.Specs[0].Transcript))
	}
	// A server that answers /hello.txt differently.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				c.Read(buf)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, World!\n")
			}()
		}
	}()
	other, err := targets.OpenAddress(context.Background(), ln.Addr().String(), targets.Options{Protocol: "http1"})
	must(t, err)
	run = Replay(context.Background(), convs, ReplayOptions{Open: fixed(other), StepTimeout: 3 * time.Second, IgnoreHeaders: []string{"last-modified", "etag", "accept-ranges", "cache-control"}})
	sp := run.Specs[0]
	if sp.State != reports.StateFailed || !strings.Contains(sp.Message, `body (14 vs 14 bytes) differs at byte 7: recorded "world!\n" / replayed "World!\n"`) {
		t.Fatalf("replay against another server: %s\n%s", sp.State, sp.Message)
	}
}

func TestReplayDNS(t *testing.T) {
	ref := openRef(t, "dns")
	ep, err := ref.Endpoint("dns/udp")
	must(t, err)
	data := record(t, ep.Addr, true, func(addr string) {
		c, err := net.Dial("udp", addr)
		must(t, err)
		defer c.Close()
		for i, name := range []string{"www.test.", "mail.test.", "nothere.test."} {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			c.Write(dnsQuery(uint16(100+i), name))
			buf := make([]byte, 4096)
			_, err := c.Read(buf)
			must(t, err)
		}
	})
	port := ep.Addr[strings.LastIndexByte(ep.Addr, ':')+1:]
	da, _ := ParseDecodeAs([]string{port + "=dns"})
	r, _ := Open(bytes.NewReader(data))
	convs, _, err := Collect(r, Options{DecodeAs: da}, 0)
	must(t, err)
	run := Replay(context.Background(), convs, ReplayOptions{Open: fixed(ref), StepTimeout: 3 * time.Second})
	if len(run.Specs) != 1 || run.Specs[0].State != reports.StatePassed {
		t.Fatalf("replay: %+v", run.Specs)
	}
	// A capture whose recorded answer differs from what the server says.
	q := dnsQuery(7, "www.test.")
	fake := capture(t, func(w *Writer) {
		must(t, w.UDP(t0, cli, dnsSrv, true, q, ""))
		must(t, w.UDP(t0, dnsSrv, cli, false, dnsAnswer(q, "127.0.0.99"), ""))
	})
	run = replayRun(t, fake, ReplayOptions{Open: fixed(ref), Ignore: []string{"dns.flags", "dns.authority", "dns.additional"}})
	sp := run.Specs[0]
	if sp.State != reports.StateFailed || !strings.Contains(sp.Message, "answer section: recorded www.test. 0 in a 127.0.0.99 / replayed www.test. 0 in a 127.0.0.1") {
		t.Fatalf("%s\n%s", sp.State, sp.Message)
	}
}

func TestReplayEcho(t *testing.T) {
	ref := openRef(t, "echo")
	echoSrv := addr("127.0.0.1:7")
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, echoSrv, "")
		must(t, tc.Data(t0, true, []byte("hello\n")))
		must(t, tc.Data(t0, false, []byte("hello\n")))
		must(t, tc.Data(t0, true, []byte("world\n")))
		must(t, tc.Data(t0, false, []byte("world\n")))
		must(t, tc.Close(t0))
		must(t, w.UDP(t0, addr("127.0.0.1:41000"), echoSrv, true, []byte("datagram"), ""))
		must(t, w.UDP(t0, echoSrv, addr("127.0.0.1:41000"), false, []byte("datagram"), ""))
	})
	run := replayRun(t, data, ReplayOptions{Open: fixed(ref), EchoService: "echo"})
	for _, sp := range run.Specs {
		if sp.State != reports.StatePassed {
			t.Errorf("%s: %s %s", sp.ID, sp.State, sp.Message)
		}
	}
	run = replayRun(t, data, ReplayOptions{Open: fixed(ref), EchoService: "uppercase"})
	if len(run.Specs) != 2 || run.OK() || !strings.Contains(run.Specs[0].Message, `recorded: "hello\n"`+"\n"+`replayed: "HELLO\n"`) {
		t.Fatalf("%+v", run.Specs)
	}
}
