package spec

import (
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	good := []string{"echo/rfc862/tcp/echoes-line", "http1/rfc9112/9.3/persistent-by-default", "dns/rfc1035/4.1.1/id-copied", "echo/uppercase/udp/a.b"}
	for _, s := range good {
		id, err := ParseID(s)
		if err != nil || id.String() != s {
			t.Errorf("ParseID(%q) = %v, %v", s, id, err)
		}
	}
	for _, s := range []string{"", "echo/rfc862/tcp", "echo/rfc862/tcp/x/y", "Echo/rfc862/tcp/x", "echo/RFC862/tcp/x", "echo/rfc862//x", "echo/rfc862/tcp/Bad", "echo/rfc862/tcp/has space", "echo/rfc862/9:3/x"} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) accepted a malformed ID", s)
		}
	}
}

func TestLabels(t *testing.T) {
	m := Meta{ID: ID{"http1", "rfc9112", "9.3", "x"}, Level: SHOULD}
	got := strings.Join(m.Labels(), ",")
	if got != "http1,rfc9112,rfc9112:9.3,should" {
		t.Errorf("labels %s", got)
	}
	f, err := ParseLabelFilter("rfc9112 && should")
	if err != nil || !f(m.Labels()) {
		t.Errorf("filter does not select the spec: %v", err)
	}
	if f, _ := ParseLabelFilter("must"); f(m.Labels()) {
		t.Error("'must' selects a SHOULD spec")
	}
	if _, err := ParseLabelFilter("((("); err == nil {
		t.Error("a broken filter parsed")
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		max  int
		want string
	}{
		{[]byte("hello\n"), 10, `"hello\n"`},
		{[]byte{0, 0xff, 'a'}, 10, `"\x00\xffa"`},
		{[]byte("abcdef"), 3, `"abc"…(+3 bytes)`},
		{nil, 3, `""`},
	} {
		if got := Excerpt(tc.in, tc.max); got != tc.want {
			t.Errorf("Excerpt(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestEqual(t *testing.T) {
	if err := Equal("x", []byte("a"), []byte("a")); err != nil {
		t.Errorf("equal bytes: %v", err)
	}
	err := Equal("the reply line", []byte("HELLO\n"), []byte("HELLo\n"))
	if err == nil {
		t.Fatal("different bytes compared equal")
	}
	for _, want := range []string{"the reply line", `expected: "HELLO\n" (6 bytes)`, `actual:   "HELLo\n" (6 bytes)`, "first difference at byte 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	if err := OneOf("status", []byte("400"), []byte("400"), []byte("505")); err != nil {
		t.Errorf("OneOf accepted answer: %v", err)
	}
	if err := OneOf("status", []byte("200"), []byte("400"), []byte("505")); err == nil || !strings.Contains(err.Error(), `allowed:  "505"`) {
		t.Errorf("OneOf: %v", err)
	}
}

func TestRecorderBoundsMemory(t *testing.T) {
	r := &recorder{}
	chunk := make([]byte, 64<<10)
	for range 64 {
		r.add(event{conn: "tcp#1", dir: dirSend, data: chunk})
	}
	total, length := 0, 0
	for _, e := range r.transcript().Events {
		total += len(e.Data)
		length += e.Len
	}
	if total > maxStored {
		t.Errorf("stored %d bytes, limit %d", total, maxStored)
	}
	if length != 64*len(chunk) {
		t.Errorf("recorded length %d, want %d", length, 64*len(chunk))
	}
}

func TestCheckSentence(t *testing.T) {
	id := ID{"http1", "rfc9112", "9.3", "x"}
	for _, tc := range []struct {
		level Level
		s     Sentence
		ok    bool
	}{
		{MUST, Quote("A server MUST NOT do x."), true},
		{MUST, Quote("It is REQUIRED."), true},
		{MUST, Quote("It SHALL NOT."), true},
		{MUST, Quote("A server SHOULD do x."), false},
		{MUST, Quote("a server must do x"), false},
		{SHOULD, Quote("It is NOT RECOMMENDED."), true},
		{SHOULD, Quote("A server MAY do x."), false},
		{MAY, Quote("This is OPTIONAL."), true},
		{MAY, Quote("A server MAYBE does x."), false},
		{MUST, Inferred("Once a connection is established any data received is sent back.", "RFC 862 predates RFC 2119"), true},
		{FIXTURE, Fixture("The fixture's /session counts visits."), true},
		{MUST, Quote(" "), false},
		{Level("MIGHT"), Quote("It MAY."), false},
	} {
		err := CheckSentence(Meta{ID: id, Level: tc.level, Sentence: tc.s})
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: err %v, want ok=%v", tc.level, tc.s.Text, err, tc.ok)
		}
	}
}

func TestSharedSentence(t *testing.T) {
	m := func(slug string, s Sentence) Meta {
		return Meta{ID: ID{"test", "rfc1", "1", slug}, Level: MUST, Sentence: s}
	}
	s := Quote("A server MUST frob.")
	if err := register(m("first", s)); err != nil {
		t.Fatal(err)
	}
	if err := register(m("second", s)); err == nil || !strings.Contains(err.Error(), "test/rfc1/1/first") {
		t.Errorf("a second spec quoting the same sentence was accepted: %v", err)
	}
	if err := register(m("third", s.SharedBecause("two cases"))); err != nil {
		t.Errorf("a sentence marked shared was refused: %v", err)
	}
	if err := register(m("first", Quote("A server MUST frob twice."))); err == nil {
		t.Error("a duplicate ID was accepted")
	}
	// Another document may quote the same words.
	if err := register(Meta{ID: ID{"test", "rfc2", "1", "first"}, Level: MUST, Sentence: s}); err != nil {
		t.Errorf("the same words in another document were refused: %v", err)
	}
}
