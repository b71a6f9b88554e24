package pop3

import (
	"bufio"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	ipop3 "github.com/protospec/protospec/internal/pop3"
)

func TestTransaction(t *testing.T) {
	addr, _ := start(t, &Server{MaxErrors: 100})
	v := dialConv(t, addr)
	bob := ipop3.FixtureMaildrop("bob")
	v.login("bob", "bob")
	total := 0
	for _, m := range bob {
		total += len(m)
	}
	v.do("STAT", fmt.Sprintf("+OK %d %d", len(bob), total))
	v.do("LIST", "+OK")
	want := []string{}
	for i, m := range bob {
		want = append(want, fmt.Sprintf("%d %d", i+1, len(m)))
	}
	if got := v.multi(); !slices.Equal(got, want) {
		t.Fatalf("LIST = %q, want %q", got, want)
	}
	v.do("LIST 2", fmt.Sprintf("+OK 2 %d", len(bob[1])))
	for i, m := range bob {
		v.do(fmt.Sprintf("RETR %d", i+1), "+OK")
		if got := text(v.multi()); got != m {
			t.Fatalf("RETR %d = %q, want %q", i+1, got, m)
		}
	}
	// Byte-stuffing on the wire: message 2's lines starting with "." go
	// out with one more.
	v.do("RETR 2", "+OK")
	var raw []string
	for {
		l := v.line()
		raw = append(raw, l)
		if l == "." {
			break
		}
	}
	if !slices.Equal(raw[4:], []string{"..", "...", "..leading dot", "not a dot.", "..", "."}) {
		t.Fatalf("RETR 2 on the wire: %q", raw)
	}
	// TOP: the header, the blank line, n lines of the body.
	v.do("TOP 3 2", "+OK")
	top := v.multi()
	if len(top) != 6 || top[3] != "" || top[4] != "body line 1" || top[5] != "body line 2" {
		t.Fatalf("TOP 3 2 = %q", top)
	}
	v.do("TOP 3 0", "+OK")
	if top := v.multi(); len(top) != 4 || top[3] != "" {
		t.Fatalf("TOP 3 0 = %q", top)
	}
	v.do("TOP 1 100", "+OK")
	if got := text(v.multi()); got != bob[0] {
		t.Fatalf("TOP 1 100 = %q", got)
	}
	v.do("UIDL", "+OK")
	uids := v.multi()
	if len(uids) != 3 {
		t.Fatalf("UIDL = %q", uids)
	}
	uidRE := regexp.MustCompile(`^[1-3] [\x21-\x7e]{1,70}$`)
	for _, u := range uids {
		if !uidRE.MatchString(u) {
			t.Fatalf("UIDL line %q", u)
		}
	}
	v.do("UIDL 3", "+OK "+uids[2])
	v.do("DELE 1", "+OK")
	for _, c := range []string{"DELE 1", "RETR 1", "LIST 1", "TOP 1 0", "UIDL 1"} {
		v.do(c, "-ERR")
	}
	v.do("STAT", fmt.Sprintf("+OK 2 %d", total-len(bob[0])))
	v.do("LIST", "+OK")
	if got := v.multi(); len(got) != 2 || !strings.HasPrefix(got[0], "2 ") {
		t.Fatalf("LIST after DELE 1 = %q", got)
	}
	v.do("RSET", "+OK")
	v.do("RETR 1", "+OK")
	v.multi()
	v.do("NOOP", "+OK")
	for _, c := range []string{"RETR 0", "RETR 4", "RETR -1", "RETR +1", "RETR 1x", "RETR", "RETR 1 2", "TOP 1", "TOP 1 -1", "LIST 99", "LIST 1 2", "UIDL 9", "DELE 4", "STAT 1", "NOOP x", "RSET x", "RETR 0000000001"} {
		v.do(c, "-ERR")
	}
	v.do("QUIT", "+OK")
	if !v.closed() {
		t.Fatal("open after QUIT")
	}
}

func TestStates(t *testing.T) {
	addr, _ := start(t, &Server{MaxErrors: 100})
	v := dialConv(t, addr)
	if !regexp.MustCompile(`^\+OK .* <[0-9a-f]{16}\.[0-9]+@localhost>$`).MatchString(v.greeting) {
		t.Fatalf("greeting %q has no APOP timestamp", v.greeting)
	}
	for _, c := range []string{"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1", "UIDL", "PASS bob", "FOO", "LISTS", "LI", "", " USER bob", "USER  bob", "USER bob ", "USER", "USER a b", "NOOP\x00", "USÉR bob", "AUTH", "AUTH CRAM-MD5"} {
		v.do(c, "-ERR")
	}
	v.send("USER bob\n")
	v.expect("-ERR")
	v.do("USER nosuchuser", "+OK")
	v.do("PASS bob", "-ERR [AUTH]")
	v.do("USER bob", "+OK")
	v.do("NOOP", "-ERR")
	v.do("PASS bob", "-ERR") // USER was not immediately before
	v.do("user bob", "+OK")  // keywords are case-insensitive
	v.do("pass bob", "+OK")
	for _, c := range []string{"USER bob", "PASS bob", "APOP bob 0123456789abcdef0123456789abcdef", "AUTH PLAIN", "STLS"} {
		v.do(c, "-ERR")
	}
	v.do("CAPA", "+OK")
	capa := v.multi()
	for _, c := range []string{"TOP", "UIDL", "RESP-CODES", "PIPELINING"} {
		if !slices.Contains(capa, c) {
			t.Errorf("CAPA in TRANSACTION lacks %s: %q", c, capa)
		}
	}
	v.do("quit", "+OK")
}

func TestLongLine(t *testing.T) {
	addr, _ := start(t, nil)
	v := dialConv(t, addr)
	// 255 octets with CRLF is the limit (RFC 2449 4).
	v.do("USER "+strings.Repeat("a", 255-7), "+OK")
	v.do("USER "+strings.Repeat("a", 255-6), "-ERR")
	v.do("CAPA", "+OK")
	v.multi()
	// A MiB without an end: -ERR and the connection closed after 64 KiB.
	go v.c.Write([]byte(strings.Repeat("x", 1<<20)))
	v.expect("-ERR")
	if !v.closed() {
		t.Fatal("open after a 1 MiB line")
	}
}

func TestQuitDeletesDurably(t *testing.T) {
	addr, srv := start(t, nil)
	before := ids(t, srv.Store, "bob")
	v := dialConv(t, addr)
	v.login("bob", "bob")
	v.do("UIDL", "+OK")
	uids := v.multi()
	v.do("DELE 2", "+OK")
	v.do("QUIT", "+OK")
	v.closed()
	// The store reopened from its directory: message 2 is gone, the
	// others are there under the same names and unique-ids.
	after := ids(t, reopen(t, srv), "bob")
	if !slices.Equal(after, []string{before[0], before[2]}) {
		t.Fatalf("after DELE 2 and QUIT: %q, before %q", after, before)
	}
	w := dialConv(t, addr)
	w.login("bob", "bob")
	w.do("UIDL", "+OK")
	if got := w.multi(); !slices.Equal(got, []string{uids[0], "2" + uids[2][1:]}) {
		t.Fatalf("UIDL after the deletion = %q, before %q", got, uids)
	}
	w.do("RETR 2", "+OK")
	if got := text(w.multi()); got != ipop3.FixtureMaildrop("bob")[2] {
		t.Fatalf("message 2 is now %q", got)
	}
}

func TestEndWithoutQuitDeletesNothing(t *testing.T) {
	addr, srv := start(t, &Server{IdleTimeout: time.Second})
	before := ids(t, srv.Store, "bob")
	// Dropped.
	v := waitLogin(t, addr, "DELE 1\r\nDELE 2\r\n")
	v.expect("+OK")
	v.expect("+OK")
	v.c.Close()
	// Timed out: closed without a response (RFC 1939 3).
	w := waitLogin(t, addr, "DELE 3\r\n")
	w.expect("+OK")
	w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := w.r.ReadByte(); err == nil {
		t.Fatalf("a response (%q...) on the idle timeout", b)
	}
	// Shut down.
	x := waitLogin(t, addr, "DELE 1\r\n")
	x.expect("+OK")
	srv.Close()
	if !x.closed() {
		t.Fatal("a response to the shutdown (RFC 1939 3 closes without one)")
	}
	if after := ids(t, reopen(t, srv), "bob"); !slices.Equal(after, before) {
		t.Fatalf("after sessions without QUIT: %q, before %q", after, before)
	}
}

// waitLogin logs bob in, once the lock of a previous session is
// released, with the login and then more commands in one write (no idle
// time between them); it reads the login's responses only.
func waitLogin(t *testing.T, addr, more string) *conv {
	t.Helper()
	for i := 0; ; i++ {
		v := dialConv(t, addr)
		v.send("USER bob\r\nPASS bob\r\n" + more)
		v.expect("+OK")
		l := v.line()
		if strings.HasPrefix(l, "+OK") {
			return v
		}
		if !strings.HasPrefix(l, "-ERR [IN-USE]") || i > 100 {
			t.Fatalf("login: %q", l)
		}
		v.c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLock(t *testing.T) {
	addr, _ := start(t, nil)
	a := dialConv(t, addr)
	a.login("bob", "bob")
	b := dialConv(t, addr)
	b.do("USER bob", "+OK")
	b.do("PASS bob", "-ERR [IN-USE]")
	b.do("APOP bob "+apopDigest(b.greeting, "bob"), "-ERR [IN-USE]")
	b.login("alice", "alice") // another maildrop
	b.do("STAT", "+OK 1 ")
	a.do("QUIT", "+OK")
	a.closed()
	c := dialConv(t, addr)
	c.login("bob", "bob")
	c.do("STAT", "+OK 3 ")
}

func apopDigest(greeting, secret string) string {
	ts := regexp.MustCompile(`<[^>]*>`).FindString(greeting)
	sum := md5.Sum([]byte(ts + secret))
	return hex.EncodeToString(sum[:])
}

func TestAPOP(t *testing.T) {
	addr, _ := start(t, &Server{Plaintext: PlaintextNever})
	v := dialConv(t, addr)
	v.do("APOP bob "+apopDigest(v.greeting, "wrong"), "-ERR [AUTH]")
	v.do("APOP bob "+strings.ToUpper(apopDigest(v.greeting, "bob")), "-ERR")
	v.do("APOP bob", "-ERR")
	v.do("APOP bob "+apopDigest(v.greeting, "bob"), "+OK")
	v.do("STAT", "+OK 3 ")
	w := dialConv(t, addr)
	if w.greeting == v.greeting {
		t.Fatal("the same timestamp twice")
	}
	// A digest of another session's timestamp is refused.
	w.do("APOP alice "+apopDigest(v.greeting, "alice"), "-ERR [AUTH]")

	addr, _ = start(t, &Server{DisableAPOP: true})
	x := dialConv(t, addr)
	if strings.Contains(x.greeting, "<") {
		t.Fatalf("greeting %q with APOP disabled", x.greeting)
	}
	x.do("APOP bob "+apopDigest(x.greeting, "bob"), "-ERR")
}

func TestLoginFailures(t *testing.T) {
	addr, _ := start(t, &Server{LoginDelay: 100 * time.Millisecond})
	v := dialConv(t, addr)
	t0 := time.Now()
	v.do("USER bob", "+OK")
	v.do("PASS nope", "-ERR [AUTH]")
	if d := time.Since(t0); d < 100*time.Millisecond {
		t.Errorf("a failed PASS answered after %v, before the login delay", d)
	}
	v.do("USER bob", "+OK")
	v.do("PASS bob ", "-ERR [AUTH]") // the space is part of the password
	v.do("USER bob", "+OK")
	v.do("PASS Bob", "-ERR [AUTH]")
	if !v.closed() {
		t.Fatal("open after three failed logins")
	}
}

func plain(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}

func TestAuthPlain(t *testing.T) {
	addr, _ := start(t, &Server{MaxAuthFailures: 10})
	v := dialConv(t, addr)
	v.do("AUTH PLAIN "+plain("", "bob", "x"), "-ERR [AUTH]")
	v.do("AUTH PLAIN "+plain("alice", "bob", "bob"), "-ERR [AUTH]")
	v.do("AUTH PLAIN !!!!", "-ERR")
	v.do("AUTH PLAIN =", "-ERR")
	v.do("AUTH PLAIN", "+ ")
	v.do("*", "-ERR")
	v.do("AUTH PLAIN", "+ ")
	v.do("bm90IGJhc2U2NA", "-ERR") // unpadded
	v.do("AUTH plain "+plain("bob", "bob", "bob"), "+OK")
	v.do("STAT", "+OK 3 ")
	v.do("QUIT", "+OK")
	w := dialConv(t, addr)
	w.do("AUTH PLAIN", "+ ")
	w.do(plain("", "alice", strings.Repeat("p", 1400)), "-ERR [AUTH]") // a long response is read whole
	w.do("AUTH PLAIN", "+ ")
	w.do(strings.Repeat("A", MaxAuthLine), "-ERR Authentication response too long")
	w.do("AUTH PLAIN", "+ ")
	w.do(plain("", "alice", "alice"), "+OK")
	w.do("STAT", "+OK 1 ")
}

func TestPlaintextPolicyAndSTLS(t *testing.T) {
	addr, _ := start(t, &Server{Plaintext: PlaintextNever, TLSConfig: fixtureTLS.ServerConfig()})
	v := dialConv(t, addr)
	v.do("CAPA", "+OK")
	capa := v.multi()
	if slices.Contains(capa, "USER") || slices.Contains(capa, "SASL PLAIN") || !slices.Contains(capa, "STLS") {
		t.Fatalf("CAPA before TLS with plaintext logins refused: %q", capa)
	}
	v.do("USER bob", "-ERR [AUTH]")
	v.do("AUTH PLAIN "+plain("", "bob", "bob"), "-ERR [AUTH]")
	v.do("STLS x", "-ERR")
	v.startTLS()
	v.do("CAPA", "+OK")
	capa = v.multi()
	if !slices.Contains(capa, "USER") || !slices.Contains(capa, "SASL PLAIN") || slices.Contains(capa, "STLS") {
		t.Fatalf("CAPA under TLS: %q", capa)
	}
	v.do("STLS", "-ERR")
	v.login("bob", "bob")
	v.do("STAT", "+OK 3 ")

	// Loopback (the default): plaintext logins on 127.0.0.1.
	addr, _ = start(t, nil)
	w := dialConv(t, addr)
	w.do("STLS", "-ERR") // no TLSConfig
	w.do("CAPA", "+OK")
	if capa := w.multi(); !slices.Contains(capa, "USER") || slices.Contains(capa, "STLS") {
		t.Fatalf("CAPA on loopback without TLS: %q", capa)
	}
	w.login("bob", "bob")
}

// TestSTLSInjection sends commands in the same write as STLS: they were
// not protected by TLS and must not be run (CVE-2011-0411). A USER before
// STLS is forgotten too.
func TestSTLSInjection(t *testing.T) {
	addr, _ := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig()})
	v := dialConv(t, addr)
	v.do("USER bob", "+OK")
	v.send("STLS\r\nUSER bob\r\n")
	v.expect("+OK")
	tc := tls.Client(v.c, clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake after injected bytes: %v", err)
	}
	v.c, v.r = tc, bufio.NewReader(tc)
	v.do("PASS bob", "-ERR") // neither USER counts
	v.login("bob", "bob")
}

func TestImplicitTLS(t *testing.T) {
	srv := &Server{Plaintext: PlaintextNever, TLSConfig: fixtureTLS.ServerConfig()}
	addr := startTLS(t, srv)
	c, err := tls.Dial("tcp", addr, clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	v := newConv(t, c)
	v.do("CAPA", "+OK")
	if capa := v.multi(); slices.Contains(capa, "STLS") || !slices.Contains(capa, "USER") {
		t.Fatalf("CAPA on implicit TLS: %q", capa)
	}
	v.do("STLS", "-ERR")
	v.login("alice", "alice")
	v.do("RETR 1", "+OK")
	if got := text(v.multi()); got != ipop3.FixtureMaildrop("alice")[0] {
		t.Fatalf("RETR 1 = %q", got)
	}
}

func TestPipelining(t *testing.T) {
	addr, _ := start(t, nil)
	v := dialConv(t, addr)
	v.send("USER bob\r\nPASS bob\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nNOOP\r\nRSET\r\nQUIT\r\n")
	for _, want := range []string{"+OK", "+OK", "+OK 3 "} {
		v.expect(want)
	}
	v.expect("+OK")
	v.multi()
	v.expect("+OK")
	if got := text(v.multi()); got != ipop3.FixtureMaildrop("bob")[0] {
		t.Fatalf("pipelined RETR 1 = %q", got)
	}
	for range 4 {
		v.expect("+OK")
	}
	if !v.closed() {
		t.Fatal("open after QUIT")
	}
}

func TestConnectionLimits(t *testing.T) {
	addr, _ := start(t, &Server{MaxConnsPerClient: 8, MaxConns: 64})
	var conns []net.Conn
	greeted, refused := 0, 0
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		l, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case strings.HasPrefix(l, "+OK "):
			greeted++
		case strings.HasPrefix(l, "-ERR [SYS/TEMP] "), err != nil:
			refused++
		default:
			t.Fatalf("connection %d greeted %q", i, l)
		}
	}
	if greeted != 8 || refused != 92 {
		t.Fatalf("100 connections of one client: %d greeted, %d refused; want 8 and 92", greeted, refused)
	}
	for _, c := range conns {
		c.Close()
	}
	// The slots come back.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		l, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.HasPrefix(l, "+OK ") {
			break
		}
		if i > 100 {
			t.Fatalf("still refused after the connections closed: %q", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSlowloris trickles a command one byte at a time: the idle timeout
// bounds the whole line, not each byte, so the connection is closed.
func TestSlowloris(t *testing.T) {
	addr, _ := start(t, &Server{IdleTimeout: 500 * time.Millisecond})
	v := dialConv(t, addr)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for _, b := range []byte("USER " + strings.Repeat("a", 300)) { // 15 s of trickle
			if _, err := v.c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	start := time.Now()
	v.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if b, err := v.r.ReadByte(); err == nil {
		t.Fatalf("a response (%q...) to a trickled line", b)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("closed after %v with an idle timeout of 500ms", d)
	}
	<-closed
}

func TestUniqueIDBound(t *testing.T) {
	if id := uniqueID("1764758400.M1P2Q3R00.host"); id != "1764758400.M1P2Q3R00.host" {
		t.Fatalf("short name changed: %q", id)
	}
	long := strings.Repeat("h", 150)
	a, b := uniqueID(long), uniqueID(long+"x")
	if len(a) > MaxUniqueID || a == b || a != uniqueID(long) || !strings.HasPrefix(a, "~") {
		t.Fatalf("long names: %q %q", a, b)
	}
}

func TestTooManyErrors(t *testing.T) {
	addr, _ := start(t, &Server{MaxErrors: 3})
	v := dialConv(t, addr)
	for range 3 {
		v.do("FOO", "-ERR")
	}
	v.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if b, err := v.r.ReadByte(); err == nil {
		t.Fatalf("an unsolicited response (%q...)", b)
	}
	v.c.SetDeadline(time.Now().Add(10 * time.Second))
	v.do("CAPA", "-ERR Too many errors")
	if !v.closed() {
		t.Fatal("open after too many errors")
	}
	// Overlong lines count too.
	w := dialConv(t, addr)
	long := "USER " + strings.Repeat("x", 300)
	for range 3 {
		w.do(long, "-ERR Line too long")
	}
	w.do(long, "-ERR Too many errors")
	if !w.closed() {
		t.Fatal("open after too many overlong lines")
	}
}

// TestForeignMaildir serves a message another Maildir writer left in
// cur/ with LF line ends and the S flag: LIST counts its CRLF size, RETR
// sends CRLF, and the file keeps its name and flags (RETR changes nothing
// on disk); a user without a Maildir has an empty maildrop.
func TestForeignMaildir(t *testing.T) {
	st := fixtureStore(t)
	name := "1700000000.M1P1.other:2,S"
	p := filepath.Join(st.Root(), "alice", "cur", name)
	const lf = "Subject: lf\n\n.dot\nline\n"
	if err := os.WriteFile(p, []byte(lf), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(p, old, old)
	users := append(slices.Clone(mailstore.FixtureUsers), mailstore.User{Name: "carol", Password: "carol"})
	addr, _ := start(t, &Server{Store: st, Users: users})
	v := dialConv(t, addr)
	v.login("alice", "alice")
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	v.do("LIST 1", fmt.Sprintf("+OK 1 %d", len(crlf)))
	v.do("UIDL 1", "+OK 1 1700000000.M1P1.other")
	v.do("RETR 1", "+OK")
	if got := text(v.multi()); got != crlf {
		t.Fatalf("RETR 1 = %q", got)
	}
	v.do("QUIT", "+OK")
	v.closed()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the file after RETR and QUIT: %v", err)
	}
	w := dialConv(t, addr)
	w.login("carol", "carol")
	w.do("STAT", "+OK 0 0")
	w.do("LIST", "+OK")
	if l := w.multi(); len(l) != 0 {
		t.Fatalf("LIST of an empty maildrop: %q", l)
	}
	w.do("QUIT", "+OK")
}

func TestStatusLineBound(t *testing.T) {
	addr, _ := start(t, &Server{Hostname: strings.Repeat("h", 600)})
	v := dialConv(t, addr)
	if len(v.greeting)+2 > MaxResponseLine {
		t.Fatalf("a greeting of %d octets", len(v.greeting)+2)
	}
}
