package ftp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
)

func read(t *testing.T, s string) (Reply, error) {
	t.Helper()
	return ReadReply(bufio.NewReaderSize(strings.NewReader(s), 16), Limits{})
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		in    string
		code  int
		lines []string
		rule  string
		fatal bool
	}{
		{"220 Service ready\r\n", 220, []string{"Service ready"}, "", false},
		{"220 \r\n", 220, []string{""}, "", false},
		{"211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n", 211, []string{"Features:", " MDTM", " SIZE", "End"}, "", false},
		// RFC 959 4.2's example: an inner line that starts with digits.
		{"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n123 The last line\r\n", 123,
			[]string{"First line", "Second line", "  234 A line beginning with numbers", "The last line"}, "", false},
		{"211-a\r\n211-b\r\n211 c\r\n", 211, []string{"a", "211-b", "c"}, "", false},
		{"220 bare\n", 220, []string{"bare"}, RuleCRLF, false},
		{"220\r\n", 220, []string{""}, RuleReplySP, false},
		{"220 a\rb\r\n", 220, []string{"a\rb"}, RuleNoBareCR, false},
		{"220-a\r\n", 220, []string{"a"}, RuleIncomplete, true},
		{"22 short\r\n", 0, nil, RuleReplyCode, true},
		{"620 bad\r\n", 0, nil, RuleReplyCode, true},
		{"220x\r\n", 220, nil, RuleReplySP, true},
		{"220 no end", 0, nil, RuleIncomplete, true},
	}
	for _, c := range cases {
		rep, err := read(t, c.in)
		if c.rule == "" {
			if err != nil {
				t.Errorf("%q: %v", c.in, err)
			}
		} else {
			var pe *ProblemError
			if !errors.As(err, &pe) || pe.Rule != c.rule || pe.Fatal != c.fatal {
				t.Errorf("%q: err %v, want rule %s fatal %v", c.in, err, c.rule, c.fatal)
			}
		}
		if rep.Code != c.code {
			t.Errorf("%q: code %d, want %d", c.in, rep.Code, c.code)
		}
		if c.lines != nil && strings.Join(rep.Lines, "|") != strings.Join(c.lines, "|") {
			t.Errorf("%q: lines %q, want %q", c.in, rep.Lines, c.lines)
		}
		if c.code != 0 && !c.fatal && string(rep.Raw) != c.in {
			t.Errorf("%q: raw %q", c.in, rep.Raw)
		}
	}
	if _, err := read(t, ""); err != io.EOF {
		t.Errorf("empty: %v, want io.EOF", err)
	}
	// Two replies in a row, the second read after the first.
	br := bufio.NewReader(strings.NewReader("150 go\r\n226 done\r\n"))
	a, _ := ReadReply(br, Limits{})
	b, _ := ReadReply(br, Limits{})
	if a.Code != 150 || b.Code != 226 || b.Text() != "done" || a.Class() != 1 {
		t.Errorf("two replies: %v %v", a, b)
	}
}

func TestReadReplyLimits(t *testing.T) {
	long := "220 " + strings.Repeat("x", 100) + "\r\n"
	_, err := ReadReply(bufio.NewReaderSize(strings.NewReader(long), 16), Limits{MaxLine: 50})
	var pe *ProblemError
	if !errors.As(err, &pe) || pe.Rule != RuleLimitLine || !errors.Is(err, ErrLineTooLong) {
		t.Errorf("long line: %v", err)
	}
	many := "211-a\r\n" + strings.Repeat("x\r\n", 20) + "211 end\r\n"
	_, err = ReadReply(bufio.NewReader(strings.NewReader(many)), Limits{MaxLines: 10})
	if !errors.As(err, &pe) || pe.Rule != RuleLimitLines {
		t.Errorf("many lines: %v", err)
	}
}

func TestFormatReply(t *testing.T) {
	for _, lines := range [][]string{{"ok"}, {"a", "b", "c"}, {"a", "211 b", "c"}, {}} {
		b := FormatReply(211, lines...)
		rep, err := ReadReply(bufio.NewReader(bytes.NewReader(b)), Limits{})
		if err != nil || rep.Code != 211 || len(rep.Lines) != max(1, len(lines)) {
			t.Errorf("%q: %v %v", b, rep, err)
		}
	}
}

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in, verb, arg, rule string
	}{
		{"USER bob\r\n", "USER", "bob", ""},
		{"retr /pub/a b.txt\r\n", "RETR", "/pub/a b.txt", ""},
		{"NOOP\r\n", "NOOP", "", ""},
		{"PWD\r\n", "PWD", "", ""},
		{"NOOP\n", "NOOP", "", RuleCRLF},
		{"NOOP", "NOOP", "", RuleCommandCRLF},
		{"CWD \r\n", "CWD", "", RuleCommandSP},
		{"X\r\n", "X", "", RuleCommandVerb},
		{"RETRIEVE x\r\n", "RETRIEVE", "x", RuleCommandVerb},
		{"R3TR x\r\n", "R3TR", "x", RuleCommandVerb},
		{"\r\n", "", "", RuleCommandVerb},
		{"STOR a\rb\r\n", "STOR", "a\rb", RuleNoBareCR},
		{"STOR a\r\x00b\r\n", "STOR", "a\r\x00b", ""},
	}
	for _, c := range cases {
		cmd, err := ParseCommand([]byte(c.in))
		if cmd.Verb != c.verb || cmd.Arg != c.arg {
			t.Errorf("%q: %+v", c.in, cmd)
		}
		if c.rule == "" && err != nil {
			t.Errorf("%q: %v", c.in, err)
		}
		var pe *ProblemError
		if c.rule != "" && (!errors.As(err, &pe) || pe.Rule != c.rule) {
			t.Errorf("%q: err %v, want %s", c.in, err, c.rule)
		}
	}
	if s := (Command{Verb: "RETR", Arg: "x"}).String(); s != "RETR x\r\n" {
		t.Errorf("String = %q", s)
	}
	if s := (Command{Verb: "PASV"}).String(); s != "PASV\r\n" {
		t.Errorf("String = %q", s)
	}
}

func TestHostPort(t *testing.T) {
	ap, err := ParseHostPort("127,0,0,1,4,1")
	if err != nil || ap != netip.MustParseAddrPort("127.0.0.1:1025") {
		t.Errorf("ParseHostPort = %v %v", ap, err)
	}
	if s := FormatHostPort(ap); s != "127,0,0,1,4,1" {
		t.Errorf("FormatHostPort = %q", s)
	}
	if s := FormatHostPort(netip.MustParseAddrPort("[::1]:21")); s != "" {
		t.Errorf("FormatHostPort(::1) = %q", s)
	}
	for _, bad := range []string{"", "1,2,3,4,5", "1,2,3,4,5,6,7", "256,0,0,1,0,1", "1, 2,3,4,5,6", "a,b,c,d,e,f", "1,2,3,4,5,0006"} {
		if _, err := ParseHostPort(bad); err == nil {
			t.Errorf("ParseHostPort(%q) succeeded", bad)
		}
	}
	for _, text := range []string{"Entering Passive Mode (127,0,0,1,4,1)", "Entering Passive Mode 127,0,0,1,4,1", "=127,0,0,1,4,1", "Mode 1999 (127,0,0,1,4,1)."} {
		got, err := ParsePASV(text)
		if err != nil || got != ap {
			t.Errorf("ParsePASV(%q) = %v %v", text, got, err)
		}
	}
	if _, err := ParsePASV("Entering Passive Mode"); err == nil {
		t.Errorf("ParsePASV without numbers succeeded")
	}
	for text, want := range map[string]int{"Entering Extended Passive Mode (|||6446|)": 6446, "ok (!!!21!)": 21, "x (a) (|||1|)": 1} {
		if got, err := ParseEPSV(text); err != nil || got != want {
			t.Errorf("ParseEPSV(%q) = %d %v", text, got, err)
		}
	}
	for _, bad := range []string{"(|||0|)", "(|||65536|)", "(||6446|)", "(|||6446|", "(|1|6446|)", "no parens"} {
		if _, err := ParseEPSV(bad); err == nil {
			t.Errorf("ParseEPSV(%q) succeeded", bad)
		}
	}
	for arg, want := range map[string]string{"|1|132.235.1.2|6275|": "132.235.1.2:6275", "|2|1080::8:800:200C:417A|5282|": "[1080::8:800:200c:417a]:5282", "!2!::1!21!": "[::1]:21"} {
		got, err := ParseEPRT(arg)
		if err != nil || got != netip.MustParseAddrPort(want) {
			t.Errorf("ParseEPRT(%q) = %v %v", arg, got, err)
		}
		if back, _ := ParseEPRT(FormatEPRT(got)); back != got {
			t.Errorf("FormatEPRT(%v) = %q", got, FormatEPRT(got))
		}
	}
	for _, bad := range []string{"", "|1|::1|21|", "|2|127.0.0.1|21|", "|3|1.2.3.4|21|", "|1|1.2.3.4|0|", "|1|1.2.3.4|21", "1|1|1.2.3.4|21|", "|2|fe80::1%eth0|21|"} {
		if _, err := ParseEPRT(bad); err == nil {
			t.Errorf("ParseEPRT(%q) succeeded", bad)
		}
	}
	if got, _ := ParseEPSV(FormatEPSV(4242)); got != 4242 {
		t.Errorf("FormatEPSV round trip: %d", got)
	}
	if got, _ := ParsePASV(FormatPASV(ap)); got != ap {
		t.Errorf("FormatPASV round trip: %v", got)
	}
}

func TestASCII(t *testing.T) {
	cases := map[string]string{
		"":              "",
		"a\nb\n":        "a\r\nb\r\n",
		"a\r\nb":        "a\r\nb",
		"\n\n":          "\r\n\r\n",
		"a\rb":          "a\rb",
		"\r\r\n":        "\r\r\n",
		"end with cr\r": "end with cr\r",
	}
	for local, wire := range cases {
		// Byte by byte: the state must carry over between writes.
		var out bytes.Buffer
		w := NewASCIIWriter(&out)
		for i := 0; i < len(local); i++ {
			w.Write([]byte{local[i]})
		}
		w.Close()
		if out.String() != wire {
			t.Errorf("writer %q = %q, want %q", local, out.String(), wire)
		}
		if _, err := w.Write([]byte("x")); err != ErrClosed {
			t.Errorf("write after close: %v", err)
		}
		got, err := io.ReadAll(NewASCIIReader(iotest.OneByteReader(strings.NewReader(wire))))
		if err != nil || string(got) != strings.ReplaceAll(local, "\r\n", "\n") {
			t.Errorf("reader %q = %q %v", wire, got, err)
		}
	}
	// A reader fed in big chunks, read through a small buffer.
	wire := strings.Repeat("line\r\n", 1000)
	r := NewASCIIReader(strings.NewReader(wire))
	var got []byte
	buf := make([]byte, 3)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != strings.Repeat("line\n", 1000) {
		t.Errorf("chunked reader differs")
	}
	if err := iotest.TestReader(NewASCIIReader(strings.NewReader("a\r\nb\rc\r\n")), []byte("a\nb\rc\n")); err != nil {
		t.Error(err)
	}
}
