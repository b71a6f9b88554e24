package http1

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	ihttp1 "github.com/protospec/protospec/internal/http1"
	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

var update = flag.Bool("update", false, "rewrite testdata from the synthesizer")

var httpSrv = pcaptest.Addr("127.0.0.1:80")

// httpExchange writes one HTTP connection: each request followed by its
// response, then the FIN exchange.
func httpExchange(t testing.TB, w *pcap.Writer, client netip.AddrPort, ts time.Time, pairs ...string) {
	t.Helper()
	pcaptest.Exchange(t, w, client, httpSrv, ts, pairs...)
}

// TestHTTPFraming covers the body-length rules of RFC 9112 6.3 on one
// pipelined connection.
func TestHTTPFraming(t *testing.T) {
	req := func(s string) string { return s + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		tc := w.TCP(pcaptest.Client, httpSrv, "")
		ts := pcaptest.T0
		pcaptest.Must(t, tc.Handshake(ts))
		// Five pipelined requests in one segment burst.
		pcaptest.Must(t, tc.Data(ts, true, []byte(req("GET /a")+req("HEAD /b")+req("GET /c")+req("GET /d")+"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")))
		pcaptest.Must(t, tc.Data(ts.Add(time.Millisecond), false, []byte(
			"HTTP/1.1 100 Continue\r\n\r\n"+
				"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"+
				"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+ // HEAD: no body
				"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n"+
				"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"+
				"HTTP/1.0 200 OK\r\n\r\nuntil close")))
		pcaptest.Must(t, tc.Close(ts.Add(2*time.Millisecond)))
	})
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	want := strings.Join([]string{
		"flow 1 -> client#0 GET /a HTTP/1.1",
		"flow 1 -> client#1 HEAD /b HTTP/1.1",
		"flow 1 -> client#2 GET /c HTTP/1.1",
		"flow 1 -> client#3 GET /d HTTP/1.1",
		"flow 1 -> client#4 POST /e HTTP/1.1",
		"flow 1 <- server#0 HTTP/1.1 100 Continue (answers #0)",
		"flow 1 <- server#1 HTTP/1.1 200 OK (answers #0)",
		"flow 1 <- server#2 HTTP/1.1 200 OK (answers #1)",
		"flow 1 <- server#3 HTTP/1.1 200 OK (answers #2)",
		"flow 1 <- server#4 HTTP/1.1 304 Not Modified (answers #3)",
		"flow 1 <- server#5 HTTP/1.0 200 OK (answers #4)",
	}, "\n")
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if b := string(body(msgs[8])); b != "hello" || !InfoOf(msgs[8]).Chunked {
		t.Errorf("chunked body %q", b)
	}
	if !InfoOf(msgs[10]).CloseDelimited || string(body(msgs[10])) != "until close" {
		t.Errorf("close-delimited %+v", InfoOf(msgs[10]))
	}
	if string(body(msgs[4])) != "abc" {
		t.Errorf("request body %q", body(msgs[4]))
	}
	for _, m := range msgs {
		if len(m.Problems) > 0 {
			t.Errorf("%s", m)
		}
	}
}

func TestCheckHTTP(t *testing.T) {
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		httpExchange(t, w, pcaptest.Client, pcaptest.T0,
			"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			"GET /nohost HTTP/1.1\r\n\r\n", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
			"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header: x\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n")
		// A response nobody asked for, then a body cut short by close.
		tc := w.TCP(pcaptest.Addr("127.0.0.1:40001"), httpSrv, "")
		pcaptest.Must(t, tc.Handshake(pcaptest.T0))
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
	})
	run := pcaptest.Check(t, data)
	st := pcaptest.States(run)
	want := map[string]string{
		ruleHost:            reports.StateFailed,
		ruleCL1xx204:        reports.StateFailed,
		ruleNoBodyAfter:     reports.StateFailed,
		ruleCLWithTE:        reports.StateFailed,
		ruleFieldLine:       reports.StateFailed,
		ruleNoObsFold:       reports.StateFailed,
		ruleResponseRequest: reports.StateFailed,
		ruleBodyComplete:    reports.StateFailed,
		ruleRequestLine:     reports.StatePassed,
		ruleStatusLine:      reports.StatePassed,
		ruleChunked:         reports.StatePassed,
	}
	for id, state := range want {
		if st[id].State != state {
			t.Errorf("%s: %s, want %s\n%s", id, st[id].State, state, st[id].Message)
		}
	}
	if m := st[ruleHost].Message; !strings.Contains(m, "GET /nohost HTTP/1.1") || !strings.Contains(m, "flow 1 client#1") {
		t.Errorf("message: %s", m)
	}
	if run.Kind != reports.KindCheck || run.OK() {
		t.Errorf("kind %s ok %v", run.Kind, run.OK())
	}
}

func TestReplayHTTP(t *testing.T) {
	ref := pcaptest.OpenReference(t, ihttp1.Name)
	ep, err := ref.Endpoint("http/tcp")
	pcaptest.Must(t, err)
	data := pcaptest.Record(t, ep.Addr, false, func(addr string) {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		pcaptest.Must(t, err)
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
	r, _ := pcap.Open(bytes.NewReader(data))
	da, _ := pcap.ParseDecodeAs([]string{port + "=" + ihttp1.Name})
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: da}, 0)
	pcaptest.Must(t, err)
	if len(convs) != 1 || len(convs[0].Messages) != 10 {
		t.Fatalf("recorded %d flows", len(convs))
	}
	run := pcap.Replay(context.Background(), convs, pcap.ReplayOptions{Open: pcaptest.Fixed(ref), StepTimeout: 3 * time.Second, Source: "rec"})
	if len(run.Specs) != 1 || run.Specs[0].State != reports.StatePassed || run.Kind != reports.KindReplay {
		t.Fatalf("replay against the same server: %+v", run.Specs)
	}
	if !strings.HasPrefix(run.Specs[0].ID, "replay/http1/flow/1-") || len(run.Specs[0].Transcript) < 6 {
		t.Errorf("spec %s, %d events", run.Specs[0].ID, len(run.Specs[0].Transcript))
	}
	// A server that answers /hello.txt differently.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	pcaptest.Must(t, err)
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
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nHello, World!\n")
			}()
		}
	}()
	other, err := targets.OpenAddress(context.Background(), ln.Addr().String(), targets.Options{Protocol: ihttp1.Name})
	pcaptest.Must(t, err)
	run = pcap.Replay(context.Background(), convs, pcap.ReplayOptions{Open: pcaptest.Fixed(other), StepTimeout: 3 * time.Second, Params: map[string]string{paramIgnoreHeader: "last-modified,etag,accept-ranges,cache-control"}})
	sp := run.Specs[0]
	if sp.State != reports.StateFailed || !strings.Contains(sp.Message, `body (14 vs 14 bytes) differs at byte 7: recorded "world!\n" / replayed "World!\n"`) {
		t.Fatalf("replay against another server: %s\n%s", sp.State, sp.Message)
	}
}

// goldenCaptures makes the checked-in captures.
func goldenCaptures(t *testing.T) map[string][]byte {
	req := func(s string) string { return s + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	http := pcaptest.Capture(t, func(w *pcap.Writer) {
		httpExchange(t, w, pcaptest.Client, pcaptest.T0, req("GET /hello.txt"), "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, world!\n",
			req("HEAD /index.html"), "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n",
			req("GET /chunked"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			req("GET /gone"), "HTTP/1.1 304 Not Modified\r\n\r\n")
		httpExchange(t, w, pcaptest.Addr("127.0.0.1:40001"), pcaptest.T0, "GET /old HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nuntil the end")
	})
	return map[string][]byte{
		"http.pcapng":      http,
		"truncated.pcapng": http[:len(http)*2/3],
	}
}

// TestGolden dissects the checked-in captures and compares with the
// .txt next to each; go test ./pcap/http1 -run TestGolden -update
// rewrites both.
func TestGolden(t *testing.T) {
	var caps map[string][]byte
	if *update {
		caps = goldenCaptures(t)
	}
	pcaptest.Golden(t, *update, caps)
}

// body returns a dissected message's content, read again from its raw
// bytes by the observers' codec.
func body(m *pcap.Message) []byte {
	d := wire.NewResponseDecoder(wire.Limits{})
	if m.Side == pcap.Client {
		d = wire.NewRequestDecoder(wire.Limits{})
	} else {
		d.Expect("GET")
	}
	d.Feed(m.Raw)
	d.Close()
	if msg, ok := d.Next(); ok {
		return msg.Body
	}
	return nil
}
