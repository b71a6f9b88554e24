package pop3

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	ipop3 "github.com/protospec/protospec/internal/pop3"
)

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, o.String(), e.String())
	}
	return o.String()
}

const poplibScript = `
import poplib, ssl, sys
host, port, tlsport, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
p = poplib.POP3(host, port, timeout=10)
caps = p.capa()
for c in ("STLS", "TOP", "UIDL", "RESP-CODES", "PIPELINING"):
    assert c in caps, caps
assert "USER" not in caps and "SASL" not in caps, caps
try:
    p.user("bob")
    sys.exit("USER answered before STLS")
except poplib.error_proto as e:
    assert b"[AUTH]" in e.args[0], e
p.stls(context=ctx)
caps = p.capa()
assert "STLS" not in caps and "USER" in caps and caps["SASL"] == ["PLAIN"], caps
p.user("bob")
p.pass_("bob")
n, size = p.stat()
assert n == 3, (n, size)
resp, listing, _ = p.list()
assert len(listing) == 3 and sum(int(l.split()[1]) for l in listing) == size, listing
resp, lines, _ = p.retr(2)
assert lines[4:] == [b".", b"..", b".leading dot", b"not a dot.", b"."], lines
resp, lines, _ = p.top(3, 2)
assert lines[-3:] == [b"", b"body line 1", b"body line 2"], lines
resp, uids, _ = p.uidl()
assert len(uids) == 3, uids
assert p.uidl(3).split()[2] == uids[2].split()[1], (p.uidl(3), uids)
p.dele(1)
try:
    p.retr(1)
    sys.exit("RETR of a deleted message answered")
except poplib.error_proto:
    pass
print(p.quit().decode())
q = poplib.POP3(host, port, timeout=10)
q.apop("alice", "alice")
assert q.stat()[0] == 1
try:
    poplib.POP3(host, port, timeout=10).apop("alice", "alice")
    sys.exit("a second session got alice's maildrop")
except poplib.error_proto as e:
    assert b"[IN-USE]" in e.args[0], e
q.quit()
s = poplib.POP3_SSL(host, tlsport, timeout=10, context=ctx)
s.user("bob")
s.pass_("bob")
assert s.stat()[0] == 2
s.quit()
`

// Python's poplib: CAPA, STLS verified against the fixture CA, USER and
// PASS, STAT, LIST, RETR (byte-stuffing undone), TOP, UIDL, DELE, QUIT;
// APOP and the lock; POP3_SSL on the implicit TLS port.
func TestPythonPoplib(t *testing.T) {
	py := needBinary(t, "python3")
	srv := &Server{Plaintext: PlaintextNever, TLSConfig: fixtureTLS.ServerConfig()}
	addr, _ := start(t, srv)
	tlsAddr := startTLS(t, srv)
	paths, err := fixtureTLS.WriteDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(addr, ":")
	_, tlsPort, _ := strings.Cut(tlsAddr, ":")
	out := run(t, py, "-c", poplibScript, host, port, tlsPort, paths.CA)
	if !strings.HasPrefix(out, "+OK") {
		t.Fatalf("python: %s", out)
	}
	list, _ := srv.Store.List("bob")
	if len(list) != 2 {
		t.Fatalf("bob has %d messages after DELE 1 and QUIT", len(list))
	}
}

// curl's pop3:// and pop3s:// URLs: LIST, RETR, UIDL-less listing, DELE
// with -X, STLS with --ssl-reqd, APOP and SASL PLAIN by login options.
func TestCurl(t *testing.T) {
	curl := needBinary(t, "curl")
	srv := &Server{TLSConfig: fixtureTLS.ServerConfig()}
	addr, _ := start(t, srv)
	tlsAddr := startTLS(t, srv)
	paths, err := fixtureTLS.WriteDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bob := ipop3.FixtureMaildrop("bob")
	base := []string{"-sS", "--max-time", "20"}
	list := run(t, curl, append(base, "-u", "bob:bob", "pop3://"+addr+"/")...)
	if lines := strings.Split(strings.TrimSpace(list), "\r\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "2 ") {
		t.Fatalf("curl LIST: %q", list)
	}
	for i, m := range bob {
		got := run(t, curl, append(base, "-u", "bob:bob", "pop3://"+addr+"/"+string(rune('1'+i)))...)
		if got != m {
			t.Fatalf("curl RETR %d = %q, want %q", i+1, got, m)
		}
	}
	for _, opts := range []string{"AUTH=+APOP", "AUTH=PLAIN", "AUTH=*"} {
		got := run(t, curl, append(base, "-u", "alice:alice", "--login-options", opts, "pop3://"+addr+"/1")...)
		if got != ipop3.FixtureMaildrop("alice")[0] {
			t.Fatalf("curl with %s: %q", opts, got)
		}
	}
	got := run(t, curl, append(base, "--ssl-reqd", "--cacert", paths.CA, "-u", "bob:bob", "pop3://"+addr+"/3")...)
	if got != bob[2] {
		t.Fatalf("curl over STLS: %q", got)
	}
	got = run(t, curl, append(base, "--cacert", paths.CA, "-u", "bob:bob", "pop3s://"+tlsAddr+"/2")...)
	if got != bob[1] {
		t.Fatalf("curl over pop3s: %q", got)
	}
	run(t, curl, append(base, "-u", "bob:bob", "-X", "DELE", "-I", "pop3://"+addr+"/1")...)
	ids := ids(t, reopen(t, srv), "bob")
	if len(ids) != 2 {
		t.Fatalf("after curl's DELE 1: %d messages", len(ids))
	}
	// A wrong password: curl fails, nothing is served.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, append(base, "-u", "bob:wrong", "pop3://"+addr+"/1")...).CombinedOutput()
	if err == nil || slices.Contains(strings.Split(string(out), "\r\n"), "Subject: fixture 2, dots") {
		t.Fatalf("curl with a wrong password: %v %q", err, out)
	}
}
