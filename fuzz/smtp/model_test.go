package smtpfuzz

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/fuzz/engine/enginetest"
)

// TestRegistered checks the model is registered under the contract's name.
func TestRegistered(t *testing.T) { enginetest.Registered[smtpModel](t, contractName) }

// FuzzModel feeds arbitrary bytes to the model's sessions, as what was
// sent and what came back, and to its mutator: nothing may panic, and
// Parse may never claim more bytes than it was given.
func FuzzModel(f *testing.F) {
	f.Add([]byte("EHLO x\r\nMAIL FROM:<a@b>\r\n"), []byte("220 hi\r\n250-x\r\n250 SIZE\r\n250 ok\r\n"), uint64(1))
	f.Add([]byte("DATA\r\n"), []byte("354 go\r\n"), uint64(2))
	f.Add([]byte("a\r\n..b\r\n.\r\n"), []byte("250 2.0.0 queued\r\n"), uint64(3))
	f.Add([]byte("STARTTLS\r\n"), []byte("220 go\r\n\x16\x03\x01"), uint64(4))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		if err := engine.CheckModel(smtpModel{}, sent, got, seed); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzReplyGrammar checks the reply parser on any bytes (no panic, never
// more bytes used than given, every accepted line of the grammar) and
// the round trip: a reply FormatReply writes parses back the same.
func FuzzReplyGrammar(f *testing.F) {
	f.Add([]byte("250-a\r\n250-b\r\n250 c\r\n"), 250, "x\ny")
	f.Add([]byte("220\r\n"), 220, "")
	f.Add([]byte("354 go\n"), 354, "go")
	f.Add([]byte("250-a\r\n251 b\r\n"), 599, "a\n\nb")
	f.Fuzz(func(t *testing.T, b []byte, code int, text string) {
		r, n, err := ParseReply(b)
		if n < 0 || n > len(b) || (err != nil && n != 0) {
			t.Fatalf("used %d of %d (err %v)", n, len(b), err)
		}
		if err == nil && n > 0 {
			if r.Code < 200 || r.Code > 559 || len(r.Lines) == 0 {
				t.Fatalf("accepted %q as %+v", b[:n], r)
			}
			if !bytes.HasSuffix(b[:n], []byte("\r\n")) {
				t.Fatalf("accepted %q without its CRLF", b[:n])
			}
		}
		if code < 200 || code > 559 || code%100 > 59 {
			return
		}
		lines := strings.Split(strings.NewReplacer("\r", "", "\n\n", "\n").Replace(text), "\n")
		if len(lines) > 50 {
			lines = lines[:50]
		}
		wire := FormatReply(code, lines)
		got, n, err := ParseReply(append(bytes.Clone(wire), "250 next\r\n"...))
		if err != nil || n != len(wire) || got.Code != code || strings.Join(got.Lines, "\n") != strings.Join(lines, "\n") {
			t.Fatalf("%d %q -> %q -> %+v used %d err %v", code, lines, wire, got, n, err)
		}
	})
}

// FuzzDotStuffing checks the stuffing codec: any text stuffed unstuffs
// to itself (with a CRLF added when it had none at its end), the wire
// form has no end-of-data line before its last, and unstuffing any bytes
// neither panics nor uses more than it was given; what it decodes stuffs
// and decodes again to itself.
func FuzzDotStuffing(f *testing.F) {
	for _, s := range []string{"", "a\r\n", ".\r\n", "..\r\n.x\r\n", "a\n.\nb", "a\r.\r\n", ".", "\r\n.\r\n", "x\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		want := bytes.Clone(text)
		if len(want) > 0 && !bytes.HasSuffix(want, []byte("\r\n")) {
			want = append(want, '\r', '\n')
		}
		wire := Stuff(text)
		got, n, ok := Unstuff(wire)
		if !ok || n != len(wire) || !bytes.Equal(got, want) {
			t.Fatalf("%q -> %q -> %q (used %d of %d, ok %v)", text, wire, got, n, len(wire), ok)
		}
		if i := bytes.Index(wire, []byte("\r\n.\r\n")); i >= 0 && i+5 != len(wire) {
			t.Fatalf("%q stuffed to %q, which ends early at %d", text, wire, i)
		}
		dec, n, ok := Unstuff(text)
		if n < 0 || n > len(text) || (ok && n == 0) {
			t.Fatalf("unstuffing %q used %d", text, n)
		}
		if ok {
			again, _, ok2 := Unstuff(Stuff(dec))
			if !ok2 || !bytes.Equal(again, dec) {
				t.Fatalf("%q decoded to %q, which does not round-trip (%q)", text, dec, again)
			}
		}
	})
}

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		in    string
		code  int
		lines string
		used  int
		bad   bool
	}{
		{in: "220 hi\r\n", code: 220, lines: "hi", used: 8},
		{in: "250-a\r\n250-\r\n250 c\r\n354", code: 250, lines: "a||c", used: 20},
		{in: "250\r\n", code: 250, lines: "", used: 5},
		{in: "250-a\r\n", used: 0},
		{in: "250-a\r\n251 b\r\n", bad: true},
		{in: "250 ok\n", bad: true},
		{in: "150 x\r\n", bad: true},
		{in: "2500 x\r\n", bad: true},
		{in: "260 x\r\n", bad: true},
		{in: "hello\r\n", bad: true},
	} {
		r, n, err := ParseReply([]byte(tc.in))
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if tc.bad {
			continue
		}
		if n != tc.used || (n > 0 && (r.Code != tc.code || strings.Join(r.Lines, "|") != tc.lines)) {
			t.Errorf("%q: %+v used %d", tc.in, r, n)
		}
	}
}

func TestStuff(t *testing.T) {
	for in, want := range map[string]string{
		"":                 ".\r\n",
		"a\r\n":            "a\r\n.\r\n",
		".\r\n..\r\n":      "..\r\n...\r\n.\r\n",
		"a\n.b":            "a\n.b\r\n.\r\n",
		"x\r\n.\r\ny\r\n":  "x\r\n..\r\ny\r\n.\r\n",
		"no end":           "no end\r\n.\r\n",
		"a\r\n\r\n.x\r\n.": "a\r\n\r\n..x\r\n..\r\n.\r\n",
	} {
		if got := string(Stuff([]byte(in))); got != want {
			t.Errorf("Stuff(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"a\r\n.\r\nb":      "a\r\n",
		"..x\r\n.\r\n":     ".x\r\n",
		"a\n.\nb\r\n.\r\n": "a\n.\nb\r\n",
	} {
		got, _, ok := Unstuff([]byte(in))
		if !ok || string(got) != want {
			t.Errorf("Unstuff(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"a\r\n", "a\n.\n", "a\r\n.", "a\r\n.\r"} {
		if _, _, ok := Unstuff([]byte(in)); ok {
			t.Errorf("Unstuff(%q) found an end", in)
		}
	}
}

// TestSent counts the replies owed through a transaction: the DATA's
// text is text only once its 354 is known.
func TestSent(t *testing.T) {
	s := &smtpSession{}
	check := func(data string, want int, wantSure bool) {
		t.Helper()
		if n, sure := s.Sent([]byte(data)); n != want || sure != wantSure {
			t.Errorf("Sent(%q) = %d %v, want %d %v", data, n, sure, want, wantSure)
		}
	}
	parse := func(replies string, want int) {
		t.Helper()
		resps, used, err := s.Parse([]byte(replies), false)
		if err != nil || used != len(replies) || len(resps) != want {
			t.Errorf("Parse(%q) = %d replies, used %d, %v", replies, len(resps), used, err)
		}
	}
	check("EHLO x\r\n", 2, true)
	parse("220 hi\r\n250-x\r\n250 PIPELINING\r\n", 2)
	check("MAIL FROM:<"+fixtureFrom+">\r\n", 1, true)
	parse("250 ok\r\n", 1)
	check("RCPT TO:<"+fixtureTo+">\r\n", 1, true)
	parse("250 ok\r\n", 1)
	check("DATA\r\n", 1, true)
	parse("354 go\r\n", 1)
	check("Subject: x\r\n\r\n..\r\nQUIT\r\n", 0, false) // nothing owed yet
	check(".\r\nNOOP\r\n", 2, true)
	parse("250 queued\r\n250 ok\r\n", 2)
	// A DATA refused: what follows are commands.
	check("DATA\r\n", 1, true)
	parse("503 no\r\n", 1)
	check("NOOP\r\n", 1, true)
	parse("250 ok\r\n", 1)
	// Pipelined: a guess, not sure.
	check("MAIL FROM:<"+fixtureFrom+">\r\nRCPT TO:<"+fixtureTo+">\r\nDATA\r\n", 3, false)
	parse("250 ok\r\n250 ok\r\n354 go\r\n", 3)
	check("x\r\n.\r\n", 1, true)
	parse("250 ok\r\n", 1)
	check("QUIT\r\nNOOP\r\n", 1, false) // nothing is sure after QUIT
}

// TestOrderOracle: replies out of order are grammar violations.
func TestOrderOracle(t *testing.T) {
	for _, tc := range []struct{ sent, got, err string }{
		{"NOOP\r\n", "220 hi\r\n354 go\r\n", "354 in reply to NOOP"},
		{"EHLO x\r\nMAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\n", "220 hi\r\n250 x\r\n250 ok\r\n250 ok\r\n250 ok\r\n", "in reply to DATA"},
		{"NOOP\r\n", "220 hi\r\n250 ok\r\n250 again\r\n", "no reply is owed"},
		{"NOOP\r\n", "250 hi\r\n250 ok\r\n", "greeting 250"},
		{"NOOP\r\n", "220 hi\r\n250 ok\r\n421 bye\r\n", ""},
		{"NOOP\r\n", "554 go away\r\n503 no\r\n", ""},
	} {
		s := &smtpSession{}
		s.Sent([]byte(tc.sent))
		_, _, err := s.Parse([]byte(tc.got), false)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q / %q: %v, want %q", tc.sent, tc.got, err, tc.err)
		}
	}
}

// TestSTARTTLS: after 220 to STARTTLS the bytes are TLS, not judged.
func TestSTARTTLS(t *testing.T) {
	s := &smtpSession{}
	s.Sent([]byte("EHLO x\r\nSTARTTLS\r\n"))
	resps, used, err := s.Parse([]byte("220 hi\r\n250 x\r\n220 go\r\n\x16\x03\x01\x00\x05hello"), false)
	if err != nil || len(resps) != 3 || used != 33 {
		t.Fatalf("%d replies, used %d, %v", len(resps), used, err)
	}
	if n, sure := s.Sent([]byte("NOOP\r\n")); n != 0 || sure {
		t.Errorf("after TLS: %d %v", n, sure)
	}
}

// TestMutate runs every mutation on every seed: the steps stay within
// the engine's bounds and text steps stay text unless their end changed.
func TestMutate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := smtpModel{}
	seen := map[string]bool{}
	for k := 0; k < 2000; k++ {
		for _, seed := range m.Seeds() {
			in := seed.Clone()
			i := r.IntN(len(in.Steps))
			seen[m.Mutate(r, &in, i)] = true
			for _, st := range in.Steps {
				if len(st.Data) > engine.MaxStepBytes {
					t.Fatalf("step of %d bytes", len(st.Data))
				}
			}
		}
	}
	for _, n := range append(cmdMutations, textMutations...) {
		if !seen[n] {
			t.Errorf("mutation %q never applied", n)
		}
	}
}

// TestBenign: the built-in set parses and is found under "rfc".
func TestBenign(t *testing.T) {
	rules, used, err := engine.ResolveBenign(contractName, engine.BenignAll, []string{"reference", "postfix"})
	if err != nil || len(rules) < 5 || len(used) != 1 || used[0] != engine.BenignCommon {
		t.Fatalf("%d rules from %v: %v", len(rules), used, err)
	}
}
