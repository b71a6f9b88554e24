package smtp

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// The clients every server meets: a huge line, a message cut off before
// its end, a client that sends a byte at a time, a flood of recipients,
// pipelined garbage. Each spec checks the reply the RFC gives the case
// (or a close) and that the server goes on serving others.

var (
	rfc5321_4_5_3_1_4 = spec.Section(proto, "rfc5321", "4.5.3.1.4", "Command Line")
	rfc5321_4_5_3_1_9 = spec.Section(proto, "rfc5321", "4.5.3.1.9", "Treatment When Limits Exceeded")
)

// refusedOrClosed reads the replies to a hostile input until quiet or the
// close, failing on any reply outside codes; it returns whether the
// session is still open.
func refusedOrClosed(t *spec.T, s *session, what string, codes ...int) bool {
	for {
		got, closed, err := s.c.ReadFor(s.c.Scaled(quietTime), 0)
		if err != nil && !spec.IsClosed(err) {
			t.Check(err)
		}
		reps, perr := parseReplies(got)
		t.Check(perr)
		for _, r := range reps {
			if !codeIn(r.code, codes) && r.code != 421 {
				t.Mismatch(what+" with code "+codeList(codes)+" (or 421 and a close)", "%s", r)
			}
		}
		if closed || err != nil {
			t.Refused(service)
			return false
		}
		if len(got) == 0 {
			return true
		}
	}
}

var _ = Describe("hostile clients", func() {
	rfc5321_4_5_3_1_9.It("huge-line", spec.MUST, "answers a 1 MiB command line with 500 (or 421 and a close), and serves others",
		spec.Inferred(`Errors due to exceeding these limits may be reported by using the reply codes.`, "the limit's refusal (500 Line too long), never a crash"), func(t *spec.T) {
			s := hello(t)
			if err := s.c.TrySend("NOOP " + strings.Repeat("A", 1<<20) + "\r\n"); err == nil {
				if refusedOrClosed(t, s, "the reply to a 1 MiB line", 500, 501) {
					s.alive("after the huge line")
				}
			} else {
				t.Refused(service)
			}
			servesAnother(t)
		}, SpecTimeout(2*time.Minute))

	rfc5321_4_5_3_1_4.It("line-over-512", spec.MUST, "refuses a command line of 2000 octets with 500 or 501, and goes on",
		spec.Inferred(`The maximum total length of a command line including the command word and the <CRLF> is 512 octets.`, "a limit the server may enforce; beyond it the refusal is 500 (4.5.3.1.9)"), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("VRFY " + pad(2000))
			if r.class() == 2 {
				t.Note("the server takes command lines of 2000 octets: %s", r)
			} else {
				expectCode(t, r, "the reply to a 2000-octet line", 500, 501, 502, 550, 553, 252)
			}
			s.alive("after the long line")
		})

	rfc5321_4_1_1_10.It("no-final-dot-then-close", spec.MUST, "delivers nothing of a message whose connection closes before <CRLF>.<CRLF>",
		spec.Quote(`If the connection is closed prematurely due to violations of the above or system or network failure, the server MUST cancel any pending transaction, but not undo any previously completed transaction, and generally MUST act as if the command or transaction in progress had received a temporary error (i.e., a 4yz response).`).SharedBecause("the hostile case: the text ends without its end of data, a lone period short of its CR LF"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.must("DATA", 354)
			l := newLetter("almost done\r\n")
			text := stuff(l.raw)
			s.c.Send(text[:len(text)-2])
			_ = s.c.CloseWrite()
			s.c.ReadFor(s.c.Scaled(quietTime), 0)
			s.c.Close()
			expectNotDelivered(t, dir, boxBob, l, "the end of data never came")
			servesAnother(t)
		})

	rfc5321_4_5_3_2_7.It("slow-client", spec.SHOULD, "takes a command sent one octet at a time, and serves others meanwhile",
		spec.Quote(`An SMTP server SHOULD have a timeout of at least 5 minutes while it is awaiting the next command from the sender.`).SharedBecause("the hostile case: a slow client holds a session, others are served"), func(t *spec.T) {
			s := hello(t)
			for i, b := range []byte("NOOP slowly\r\n") {
				if err := s.c.TrySend([]byte{b}); err != nil {
					t.Check(err)
				}
				time.Sleep(t.Scaled(100 * time.Millisecond))
				if i == 5 {
					// Half a command is held: another session is served.
					servesAnother(t)
				}
			}
			expectCode(t, s.read(), "the reply to the slow NOOP", 250)
		})

	rfc5321_4_5_3_1_10.It("rcpt-flood", spec.MUST, "meets a flood of 2000 pipelined RCPTs with 452 (or 5yz) past its limit, and serves others",
		spec.Quote(`If an SMTP server has an implementation limit on the number of RCPT commands and this limit is exhausted, it MUST use a response code of 452 (but the client SHOULD also be prepared for a 552, as noted above).`).SharedBecause("the hostile case: a flood sent without waiting"), func(t *spec.T) {
			t.Require(featurePipelining)
			s := hello(t)
			s.need("PIPELINING")
			s.mail()
			var b strings.Builder
			for i := 0; i < 2000; i++ {
				b.WriteString("RCPT TO:<" + rcptBob + ">\r\n")
			}
			if err := s.c.TrySend(b.String()); err != nil {
				t.Refused(service)
				servesAnother(t)
				return
			}
			refused := 0
			for i := 0; i < 2000; i++ {
				r, err := readReply(s.c)
				if err != nil {
					t.Refused(service)
					break
				}
				if r.code == 421 {
					t.Refused(service)
					break
				}
				if r.class() != 2 {
					refused++
					if i < 100 {
						t.Mismatch("at least 100 recipients taken (4.5.3.1.8)", "RCPT %d: %s", i+1, r)
					}
					expectCode(t, r, "the reply to a RCPT past the limit", 452, 552, 5)
				}
			}
			if refused == 0 {
				t.Note("2000 recipients taken: no limit met")
			}
			servesAnother(t)
		}, SpecTimeout(2*time.Minute))

	// RFC 5321 words the tolerance as an expectation, and servers limit
	// the errors a session may make (the reference too): a close after an
	// error reply, or with 221 or 421 (postfix's answer to an HTTP request
	// line), is a defence, not a fault. What the spec fails is garbage
	// taken as a command (a 2yz or 3yz to it) or a server that stops
	// serving.
	rfc5321_3_8.It("pipelined-garbage", spec.SHOULD, "answers each line of pipelined garbage with an error, or closes, and keeps serving",
		spec.Inferred(`Servers are expected to be tolerant of unknown commands, issuing a 500 reply and awaiting further instructions from the client.`, "a statement of what servers are expected to do: SHOULD; garbage is pipelined, so the target must announce PIPELINING"), func(t *spec.T) {
			t.Require(featurePipelining)
			s := hello(t)
			lines := []string{"\x00\x01\x02", "MAIL", "RCPT TO", "DATA DATA", "\xff\xfe\xfd", "GET / HTTP/1.1", "Host: x", ""}
			s.c.Send(strings.Join(lines, "\r\n") + "\r\n")
			for i := range lines {
				r, err := readReply(s.c)
				if err != nil {
					if i > 0 && spec.IsClosed(err) {
						t.Note("the target closed the session after %d error replies", i)
						t.Refused(service)
						servesAnother(t)
						return
					}
					t.Refused(service)
					t.Check(err)
				}
				if r.code == 421 || r.code == 221 {
					t.Note("the target ended the session with %s", r)
					t.Refused(service)
					servesAnother(t)
					return
				}
				if r.class() == 2 || r.class() == 3 {
					t.Mismatch("an error reply to garbage line "+itoa(i+1), "%s", r)
				}
			}
			s.alive("after the garbage")
		})
})
