package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
)

// serve starts `protospec serve protocol` on a free loopback port and
// returns the address its first log line announces. The server is
// stopped when the test ends.
func serve(t *testing.T, protocol string, announced *regexp.Regexp, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", protocol, "--addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := announced.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("protospec serve %s announced no address", protocol)
		return ""
	}
}

// expectNoFailure checks that a run against serve's address failed
// nothing and skipped only what it must.
func expectNoFailure(t *testing.T, r result, skipReasons ...string) {
	t.Helper()
	if r.code != 0 || r.run == nil {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range r.run.Specs {
		switch {
		case s.Unmet():
			t.Errorf("%s: %s: %s", s.ID, s.State, s.Message)
		case s.State == reports.StateSkipped && !containsAny(s.Message, skipReasons):
			t.Errorf("%s skipped: %s", s.ID, s.Message)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// run http1 --target <serve http1's address> judges serve as run http1
// judges the reference: TRACE, which both refuse, is skipped, not failed.
// The run leaves the docroot as it found it: what its specs PUT under
// /upload/ is deleted.
func TestServeHTTP1AsTarget(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if r := protospec(t, "fixtures", "http1", "--out", root); r.code != 0 {
		t.Fatalf("fixtures http1: exit %d\n%s", r.code, r.stderr)
	}
	addr := serve(t, "http1", regexp.MustCompile(`on http://(127\.0\.0\.1:[0-9]+)/`), "--root", root, "-q")
	r := protospec(t, "run", "http1", "--target", addr, "--timeout", "3s")
	expectNoFailure(t, r, "http1/trace is optional")
	if n := r.run.Summarize().Passed; n < 400 {
		t.Errorf("only %d specs passed against serve http1", n)
	}
	left, err := os.ReadDir(filepath.Join(root, "upload"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("the run left upload/%s in the docroot", e.Name())
	}
}

// run dns --target HOST:PORT is UDP and TCP: the UDP specs run, and the
// AXFR allow-list specs pass once the feature is declared.
func TestServeDNSAsTarget(t *testing.T) {
	t.Parallel()
	addr := serve(t, "dns", regexp.MustCompile(`on udp://(127\.0\.0\.1:[0-9]+)`))
	r := protospec(t, "run", "dns", "--target", addr, "--timeout", "3s", "--feature", "dns/axfr-acl", "--feature", "dns/tsig")
	// The resolver specs need the suite's own resolver endpoints; the
	// reference neither uses client subnet nor pads over cleartext.
	expectNoFailure(t, r, "for resolver (add resolver=", "dns/allowlist is optional", "the server ignores client subnet", "the server does not pad")
	if s := r.spec(t, "dns/rfc1035/4.1.1/id-copied"); s.State != reports.StatePassed {
		t.Errorf("a UDP spec against a bare address: %s %s", s.State, s.Message)
	}
	if s := r.spec(t, "dns/rfc5936/2.2/starts-with-soa"); s.State != reports.StatePassed {
		t.Errorf("AXFR: %s %s", s.State, s.Message)
	}
	const acl = "dns/rfc5936/4.1/acl-refuses-outsider"
	if s := r.spec(t, acl); s.State != reports.StatePassed {
		t.Errorf("%s with --feature dns/axfr-acl: %s %s", acl, s.State, s.Message)
	}
	// Without the declaration the allow-list spec is skipped, not failed.
	r = protospec(t, "run", "dns", "--target", addr, "--timeout", "3s", "--focus", "rfc5936/4.1")
	if s := r.spec(t, acl); s.State != reports.StateSkipped || !strings.Contains(s.Message, "--feature dns/axfr-acl") {
		t.Errorf("%s without --feature: %s %s", acl, s.State, s.Message)
	}
}

// Every spec of every suite is declared well: a level, and a sentence that
// carries its level's RFC 2119 keyword or says why not, quoted by no other
// spec unless marked shared. A declaration that breaks these rules is
// listed without a level (spec.Specs.It refuses it), so listing is enough.
func TestEverySpecQuotesItsSentence(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"echo", "http1", "dns", "ftp"} {
		r := protospec(t, "list", p, "--json")
		if r.code != 0 {
			t.Fatalf("list %s: exit %d\n%s", p, r.code, r.stderr)
		}
		var specs []struct{ ID, Level, Sentence string }
		if err := json.Unmarshal([]byte(r.stdout), &specs); err != nil {
			t.Fatalf("list %s --json: %v", p, err)
		}
		if len(specs) == 0 {
			t.Fatalf("list %s: no spec", p)
		}
		for _, s := range specs {
			if s.Level == "" || s.Sentence == "" {
				t.Errorf("%s: level %q, sentence %q: the declaration was refused (run it to see why)", s.ID, s.Level, s.Sentence)
			}
		}
	}
}
