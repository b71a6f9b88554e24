package reports

import (
	"strings"
	"testing"
	"time"
)

func TestEventString(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{At: 12345 * time.Microsecond, Conn: "tcp#1", Dir: DirSend, Len: 6, Data: `hello\n`}, `12.345ms tcp#1 send "hello\n" (6 bytes)`},
		{Event{At: time.Millisecond, Dir: DirRecv, Len: 1, Data: `x`}, `1.000ms recv "x" (1 byte)`},
		{Event{Conn: "udp#2", Dir: DirRecv, Len: 70000, Data: `AB`, Truncated: true}, `0.000ms udp#2 recv "AB"... (70000 bytes, truncated)`},
		{Event{Conn: "tcp#1 127.0.0.1:7", Dir: DirOpen}, `0.000ms tcp#1 127.0.0.1:7 open`},
		{Event{Dir: DirNote, Data: "two\nlines\x00"}, `0.000ms note two\nlines\x00`},
		{Event{}, `0.000ms ?`},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.e, got, tc.want)
		}
	}
	lines := transcriptText([]Event{{At: 0, Dir: DirOpen}, {At: 12 * time.Second, Dir: DirClose}})
	if lines[0] != "    0.000ms open" || lines[1] != "12000.000ms close" {
		t.Errorf("times not aligned: %q", lines)
	}
}

func TestEscapeControl(t *testing.T) {
	for _, tc := range []struct {
		in        string
		oneLine   bool
		want      string
		unchanged bool
	}{
		{"plain text é ✓", true, "plain text é ✓", true},
		{"a\tb\nc", false, "a\tb\nc", true},
		{"a\tb\nc", true, `a\tb\nc`, false},
		{"\x00\x1f\x7f\r", false, "\\x00\\x1f\x7f\\r", false},
		{"\xff\xfe", false, `\xff\xfe`, false},
		{"\ufffe\uffff\ud7ff", false, "\\ufffe\\uffff\ud7ff", false},
		{`already \x00 escaped`, true, `already \x00 escaped`, true},
	} {
		got := escapeControl(tc.in, tc.oneLine)
		if got != tc.want {
			t.Errorf("escapeControl(%q, %v) = %q, want %q", tc.in, tc.oneLine, got, tc.want)
		}
		for _, r := range got {
			if !xmlChar(r) {
				t.Errorf("escapeControl(%q) left %U", tc.in, r)
			}
		}
	}
}

func TestHeadline(t *testing.T) {
	if got := headline("\n  \n  first line  \nsecond"); got != "first line" {
		t.Errorf("headline = %q", got)
	}
	long := headline(strings.Repeat("é", 500))
	if !strings.HasSuffix(long, "...") || len([]rune(long)) != maxHeadline+3 {
		t.Errorf("long headline has %d runes", len([]rune(long)))
	}
	if headline("") != "" {
		t.Error("headline of nothing")
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		sp   Spec
		want string
	}{
		{Spec{State: StateFailed, Known: true}, StatusKnown},
		{Spec{State: StateError, Known: true}, StatusKnown},
		{Spec{State: StatePassed, Known: true}, StatePassed},
		{Spec{State: StateFailed}, StateFailed},
		{Spec{State: StateSkipped}, StateSkipped},
	} {
		if got := tc.sp.Status(); got != tc.want {
			t.Errorf("%+v.Status() = %q, want %q", tc.sp, got, tc.want)
		}
	}
}
