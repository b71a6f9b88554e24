package smtp

import (
	"strings"
	"testing"
)

func TestDSNParameters(t *testing.T) {
	addr, _ := start(t, &Server{MaxErrors: 100})
	v := dialConv(t, addr)
	if ehlo := v.do("EHLO client.test", "250 HELP"); !strings.Contains(ehlo, "250-DSN\r\n") {
		t.Fatalf("EHLO: %q", ehlo)
	}
	for _, c := range []struct{ cmd, want string }{
		{"MAIL FROM:<a@alice.test> RET=BODY", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> RET", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> ENVID", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> ENVID=a+2", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> ENVID=a+2b", "501 5.5.4"}, // hexchar is upper case
		{"MAIL FROM:<a@alice.test> ENVID=a+0A", "501 5.5.4"}, // decodes to a control character
		{"MAIL FROM:<a@alice.test> ENVID=a+C3", "501 5.5.4"}, // decodes to non-ASCII
		{"MAIL FROM:<a@alice.test> RET=FULL RET=HDRS", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> ENVID=" + strings.Repeat("x", maxEnvID+1), "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> XDSN=1", "555 5.5.4"},
		{"MAIL FROM:<a@alice.test> ret=hdrs ENVID=QQ314159+2B42+20x SIZE=10", "250 2.1.0"},
	} {
		v.do(c.cmd, c.want)
	}
	for _, c := range []struct{ cmd, want string }{
		{"RCPT TO:<bob@bob.test> NOTIFY=NEVER,SUCCESS", "501 5.5.4"},
		{"RCPT TO:<bob@bob.test> NOTIFY=SUCCESS,SUCCESS", "501 5.5.4"},
		{"RCPT TO:<bob@bob.test> NOTIFY=SOMETIMES", "501 5.5.4"},
		{"RCPT TO:<bob@bob.test> NOTIFY=", "501 5.5.4"},
		{"RCPT TO:<bob@bob.test> NOTIFY=SUCCESS,", "501 5.5.4"},
		{"RCPT TO:<bob@bob.test> ORCPT=bob@bob.test", "501 5.5.4"},           // no addr-type
		{"RCPT TO:<bob@bob.test> ORCPT=rfc822;", "501 5.5.4"},                // no address
		{"RCPT TO:<bob@bob.test> ORCPT=rfc(822;bob@bob.test", "501 5.5.4"},   // addr-type is an atom
		{"RCPT TO:<bob@bob.test> ORCPT=rfc822;bob+40bob.test+", "501 5.5.4"}, // bad xtext
		{"RCPT TO:<bob@bob.test> NOTIFY=NEVER NOTIFY=NEVER", "501 5.5.4"},
		{"RCPT TO:<bob@bob.test> FOO", "555 5.5.4"},
		{"RCPT TO:<bob@bob.test> NOTIFY=NEVER", "250 2.1.5"},
		{"RCPT TO:<bob@bob.test> notify=success,failure,delay ORCPT=rfc822;Bob+40bob.test", "250 2.1.5"},
		{"RCPT TO:<alice@alice.test> NOTIFY=FAILURE ORCPT=utf-8;alice@alice.test", "250 2.1.5"},
	} {
		v.do(c.cmd, c.want)
	}
	// A long line of DSN parameters fits the allowance of RFC 3461 4.
	v.do("RCPT TO:<bob@bob.test> NOTIFY=SUCCESS ORCPT=rfc822;"+strings.Repeat("b", 480)+"@bob.test", "250 2.1.5")
	// Parameters after HELO are not known.
	v.do("HELO client.test", "250 ")
	v.do("MAIL FROM:<a@alice.test> RET=FULL", "555 5.5.4")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test> NOTIFY=NEVER", "555 5.5.4")
}

func TestXtext(t *testing.T) {
	for in, want := range map[string]string{"": "", "a+2Bb": "a+b", "+3D": "=", "x+20y": "x y"} {
		if got, err := decodeXtext(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"a=b", "a b", "+", "+4", "+4g", "+4a", "é"} {
		if got, err := decodeXtext(in); err == nil {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
}
