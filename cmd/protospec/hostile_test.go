package main

// Hostile-target meta-tests: no spec may pass against a server that
// resets, stays silent, answers garbage or drips a byte a second unless
// the reaction it passes on is one that server really shows. A dead
// target ends the run in the liveness preflight (exit 2); a target that
// dies after the preflight gets inconclusive verdicts, not passes.

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
)

// hostile servers, each a TCP handler (nil UDP answer: no UDP socket).
var hostileTCP = map[string]func(net.Conn){
	"resetting": func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.Read(make([]byte, 1))
		c.(*net.TCPConn).SetLinger(0)
	},
	"silent": func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		io.Copy(io.Discard, c)
	},
	"garbage": func(c net.Conn) {
		lines(c, func([]byte) ([]byte, bool) { return []byte("\x00\xff garbage \x1b[2J\n"), true })
	},
	"1-byte-per-second": func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.Read(make([]byte, 4096))
		for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
			c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second) // the hostile behaviour itself, not synchronisation
		}
	},
	"endless-chunked-body": func(c net.Conn) {
		go io.Copy(io.Discard, c)
		c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
		chunk := []byte("8000\r\n" + strings.Repeat("x", 0x8000) + "\r\n")
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	},
	"endless-body": func(c net.Conn) {
		go io.Copy(io.Discard, c)
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n"))
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	},
}

// earned lists, per hostile server, the specs whose pass that server's
// behaviour really earns, with the reason.
var earned = map[string]map[string]string{
	"garbage": {
		// A discard server must keep the connection open: the garbage
		// server does, answering each line.
		"echo/rfc863/tcp/keeps-connection": "the connection stays open",
	},
	"endless-body": {
		// A 200 status line and headers arrive at once: what HEAD and
		// status-line specs read is there.
		"http1/rfc9112/4/status-line-head":      "the status line arrives",
		"http1/rfc9112/5/field-lines-head":      "the header fields arrive",
		"http1/rfc9110/14.2/head-ignores-range": "a 200, not a 206, answers HEAD with Range",
		// The body never completes, which is what these specs check a
		// client notices.
		"http1/rfc9112/8/incomplete-chunked":        "the message is never complete",
		"http1/rfc9112/8/incomplete-content-length": "the message is never complete",
		// The answer comes at once, without a 100 Continue.
		"http1/rfc9110/10.1.1/ignore-in-http10": "no 100 Continue is sent to an HTTP/1.0 client",
		// Nothing outside the docroot is served: the body is x's.
		"http1/rfc9110/17.3/traversal-upload-put": "the body holds no file outside the docroot",
	},
}

func init() {
	chunked := map[string]string{}
	for id, why := range earned["endless-body"] {
		chunked[id] = why
	}
	// HEAD answered without Content-Length: what these specs allow.
	for _, f := range []string{"data-1k.bin", "data-64k.bin", "dir-index.html", "empty.txt", "hello.txt", "index.html"} {
		chunked["http1/rfc9110/8.6/head-content-length-"+f] = "no Content-Length in the answer to HEAD"
	}
	earned["endless-chunked-body"] = chunked
}

// maxRSS bounds a run's memory whatever the target sends (an endless
// chunked body once took 1.06 GB).
const maxRSS = 200 << 20

func TestMetaHostileTargets(t *testing.T) {
	for _, proto := range []string{"echo", "http1", "dns", "ftp", "smtp"} {
		for _, mode := range []string{"resetting", "silent", "garbage", "1-byte-per-second", "endless-body", "endless-chunked-body"} {
			if strings.HasPrefix(mode, "endless") && proto != "http1" {
				continue
			}
			t.Run(proto+"/"+mode, func(t *testing.T) {
				t.Parallel()
				addr := serveTCP(t, hostileTCP[mode])
				r := protospec(t, "run", proto, "--target", addr, "--timeout", "1s")
				checkUnearned(t, r, mode)
				if r.maxRSS > maxRSS {
					t.Errorf("peak RSS %d MB against a %s server", r.maxRSS>>20, mode)
				}
			})
		}
	}
}

// checkUnearned fails on a pass the hostile server did not earn; a run
// that ended in the preflight must say so with exit 2.
func checkUnearned(t *testing.T, r result, mode string) {
	t.Helper()
	if r.run == nil {
		if r.code != 2 || !strings.Contains(r.stderr, "liveness preflight") {
			t.Fatalf("no report, exit %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r.took > 30*time.Second {
			t.Errorf("the preflight took %v", r.took)
		}
		return
	}
	if r.code == 0 {
		t.Errorf("exit 0 against a %s server", mode)
	}
	for _, s := range r.run.Specs {
		if s.State != reports.StatePassed && s.State != reports.StateSupported {
			continue
		}
		if _, ok := earned[mode][s.ID]; !ok {
			t.Errorf("%s %s: %s against a %s server", s.Level, s.ID, s.State, mode)
		}
	}
}

// TestMetaEchoGarbageUDP: a garbage UDP answer is an answer from the
// service's port, and all a chargen datagram must be; nothing else passes.
func TestMetaEchoGarbageUDP(t *testing.T) {
	t.Parallel()
	udp := serveUDP(t, func([]byte) []byte { return []byte("\x00\xffgarbage") }, nil)
	r := protospec(t, "run", "echo", "--target", "udp://"+udp, "--timeout", "1s")
	allowed := map[string]bool{
		"echo/uppercase/udp/reply-from-service-port": true, // the reply does come from the port
		"echo/rfc862/udp/reply-from-service-port":    true,
		"echo/rfc864/udp/answers-datagram":           true, // any datagram answers chargen
		"echo/rfc864/udp/at-most-512":                true,
	}
	if r.run == nil {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	for _, s := range r.run.Specs {
		if (s.State == reports.StatePassed || s.State == reports.StateSupported) && !allowed[s.ID] {
			t.Errorf("%s: %s against a garbage UDP server", s.ID, s.State)
		}
	}
}

// TestMetaTargetDiesAfterPreflight: a server that answers the preflight
// and then resets every connection gets inconclusive verdicts where a
// refusal was accepted, never a pass, and the run does not exit 0.
func TestMetaTargetDiesAfterPreflight(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	addr := serveTCP(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n.Add(1) <= 2 { // the target's connect check, then the preflight
			c.Read(make([]byte, 4096))
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
			return
		}
		c.Read(make([]byte, 1))
		c.(*net.TCPConn).SetLinger(0)
	})
	r := protospec(t, "run", "http1", "--target", addr, "--timeout", "1s")
	if r.code == 0 || r.run == nil {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := r.run.Summarize()
	if s.Passed+s.Supported != 0 || s.Inconclusive == 0 {
		t.Errorf("%d passed, %d supported, %d inconclusive: want no pass and inconclusive specs", s.Passed, s.Supported, s.Inconclusive)
	}
	if !strings.Contains(r.stdout, "inconclusive") {
		t.Errorf("the summary does not show inconclusive specs:\n%s", r.stdout)
	}
}

// wrongID answers each DNS query with its ID flipped.
func wrongID(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	r := append([]byte(nil), q...)
	r[0] ^= 0xff
	r[2] |= 0x80
	return r
}

// alwaysTC answers each DNS query with an empty truncated response.
func alwaysTC(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	r := append([]byte(nil), q...)
	r[2] |= 0x82
	return r
}

func TestMetaDNSPartialHostiles(t *testing.T) {
	for name, answer := range map[string]func([]byte) []byte{"wrong-ID": wrongID, "always-TC": alwaysTC} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			udp := serveUDP(t, answer, nil)
			tcp := serveTCP(t, hostileTCP["silent"])
			r := protospec(t, "run", "dns", "--target", "dns/udp=udp://"+udp+",dns/tcp="+tcp, "--timeout", "1s")
			checkUnearned(t, r, name)
		})
	}
}

// TestMetaResolverWrongIDNoFlood: a resolver that answers every query
// with the wrong ID gets a few queries per retransmit interval, not a
// flood (it once got 1,096,066 in 6 minutes).
func TestMetaResolverWrongIDNoFlood(t *testing.T) {
	t.Parallel()
	var queries atomic.Int64
	udp := serveUDP(t, func(q []byte) []byte { queries.Add(1); return wrongID(q) }, nil)
	r := protospec(t, "run", "dns", "--target", "resolver/udp=udp://"+udp, "--focus", "cname-chased-across-zones", "--feature", "dns/iterative", "--timeout", "1s")
	if r.code == 0 {
		t.Errorf("exit 0 against a wrong-ID resolver")
	}
	if got := queries.Load(); got > 200 {
		t.Errorf("the resolver got %d queries in %v", got, r.took)
	}
	if len(r.stdout) > 64<<10 {
		t.Errorf("-q printed %d bytes", len(r.stdout))
	}
}

// noUpstream answers every query itself with an empty NOERROR response,
// asking no upstream.
func noUpstream(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	r := append([]byte(nil), q...)
	r[2] |= 0x80
	return r
}

// TestMetaAbsenceNeedsEvidence: specs that pass on the absence of
// something pass only when it was possible: no NODATA verdict on a TC=1
// reply that was never followed over TCP, no "the upstream queries are
// well formed" when the resolver asked no upstream at all.
func TestMetaAbsenceNeedsEvidence(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func([]byte) []byte
		focus  string
	}{
		{"always-TC", alwaysTC, "rfc2308/2.2/resolver-nodata"},
		{"no-upstream", noUpstream, "rfc9619/4/upstream-queries-well-formed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			udp := serveUDP(t, c.answer, nil)
			r := protospec(t, "run", "dns", "--target", "resolver/udp=udp://"+udp, "--focus", c.focus, "--timeout", "1s")
			if r.run == nil {
				t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
			}
			s := r.spec(t, "dns/"+c.focus)
			if s.State == reports.StatePassed {
				t.Errorf("%s passed against a %s resolver", s.ID, c.name)
			}
		})
	}
}

// TestMetaRunCutShort: a run stopped by --run-timeout says so, reports
// every spec it did not reach as not run (it once left them out: "361
// total") and exits 2, not 1.
func TestMetaRunCutShort(t *testing.T) {
	t.Parallel()
	all := protospec(t, "list", "dns")
	r := protospec(t, "run", "dns", "--run-timeout", "2s")
	if r.code != 2 || r.run == nil {
		t.Fatalf("exit %d, want 2:\n%s%s", r.code, r.stdout, r.stderr)
	}
	total := strings.Count(all.stdout, "\ndns/")
	s := r.run.Summarize()
	if s.Total != total || s.NotRun == 0 || s.Failed != 0 {
		t.Errorf("%d specs reported of %d, %d not run, %d failed", s.Total, total, s.NotRun, s.Failed)
	}
	if len(r.run.Notes) == 0 || !strings.Contains(r.stdout, "cut short") {
		t.Errorf("the run does not say it was cut short:\n%s", r.stdout)
	}
}
