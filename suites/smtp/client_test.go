package smtp

import (
	"strings"
	"testing"
)

func TestStuff(t *testing.T) {
	got := string(stuff([]byte(".x\r\nplain\r\n..\r\n")))
	if want := "..x\r\nplain\r\n...\r\n.\r\n"; got != want {
		t.Errorf("stuff: %q, want %q", got, want)
	}
}

func TestParseReplies(t *testing.T) {
	rs, err := parseReplies([]byte("250-a\r\n250 b\r\n500 no\r\n"))
	if err != nil || len(rs) != 2 || rs[0].code != 250 || !rs[0].multi || rs[1].code != 500 {
		t.Fatalf("parseReplies: %+v, %v", rs, err)
	}
	if tx := rs[0].texts(); tx[0] != "a" || tx[1] != "b" {
		t.Errorf("texts: %q", tx)
	}
}

func TestEnhanced(t *testing.T) {
	rs, _ := parseReplies([]byte("550 5.1.1 No such user\r\n250 Ok\r\n"))
	if e, ok := rs[0].enhanced(0); !ok || e != "5.1.1" {
		t.Errorf("enhanced: %q %v", e, ok)
	}
	if _, ok := rs[1].enhanced(0); ok {
		t.Error("enhanced code found in \"250 Ok\"")
	}
}

func TestSizes(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, 127, 189, 255} {
		d := longDomain(n)
		if len(d) != n || !domainRE.MatchString(d) {
			t.Errorf("longDomain(%d): %d octets, %q", n, len(d), d)
		}
		for _, l := range strings.Split(d, ".") {
			if len(l) > 63 || l == "" {
				t.Errorf("longDomain(%d): label %q", n, l)
			}
		}
	}
	if v := caseVariant("bob.test", 5); v != "BoB.test" {
		t.Errorf("caseVariant: %q", v)
	}
}

func TestDeliveredFront(t *testing.T) {
	front := []byte("Return-Path: <a@b>\nReceived: from x\n\tby y; Thu, 1 Jan 2026 00:00:00 +0000\n")
	rs := received(front)
	if len(rs) != 1 || !dateOffsetRE.MatchString(rs[0]) {
		t.Errorf("received: %q", rs)
	}
}
