package ftp

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc959_3_4 = spec.Section(proto, "rfc959", "3.4", "Transmission Modes")

// The clients every server meets: one that never opens the data
// connection it asked for, one that asks for a thousand passive ports,
// one that reads slowly, one that sends a huge line. Each spec checks the
// reply the RFC gives the case and that the server goes on serving.

// servesAnother checks that a fresh session is served meanwhile: the
// server is not stuck on the hostile one.
func servesAnother(t *spec.T) {
	g := loggedIn(t)
	path := g.scratch("meanwhile", []byte("meanwhile\n"))
	t.Check(spec.Equal("a file served to another session meanwhile", []byte("meanwhile\n"), g.getFile(path)))
}

var _ = Describe("hostile clients", func() {
	rfc959_4_2.It("thousand-pasv", spec.MUST, "answers each of a thousand PASVs and still transfers afterwards",
		spec.Inferred("Every command must generate at least one reply, although there may be more than one; in the latter case, the multiple replies must be easily distinguished.", old).SharedBecause("the flood case: a thousand PASVs, each answered"), func(t *spec.T) {
			f := loggedIn(t)
			var batch strings.Builder
			for i := 0; i < 1000; i++ {
				batch.WriteString("PASV\r\n")
				if i%50 == 49 {
					f.c.Send(batch.String())
					batch.Reset()
					for j := 0; j < 50; j++ {
						r := f.read()
						if r.code != 227 && r.class() != 4 && r.class() != 5 {
							t.Mismatch("227 (or a refusal) to PASV "+strconv.Itoa(i-49+j+1), "%s", r)
						}
					}
				}
			}
			path := f.scratch("after-pasv", []byte("still\n"))
			t.Check(spec.Equal("a file after a thousand PASVs", []byte("still\n"), f.getFile(path)))
		}, SpecTimeout(3*time.Minute))

	rfc959_4_2_1.It("line-too-long", spec.MUST, "refuses a 64 KiB command line with 500 (or closes), and keeps serving",
		spec.Inferred("500 Syntax error, command unrecognized. This may include errors such as command line too long.", old), func(t *spec.T) {
			f := loggedIn(t)
			if err := f.c.TrySend("XQZT " + strings.Repeat("A", 64<<10) + "\r\n"); err == nil {
				for {
					r, err := readReply(f.c)
					if err != nil {
						if !spec.IsClosed(err) && !spec.IsTimeout(err) {
							t.Check(err)
						}
						break
					}
					if r.class() != 5 && r.code != 421 {
						t.Mismatch("500 (or 501, or 421 and a close) to a 64 KiB line", "%s", r)
					}
					got, closed, _ := f.c.ReadFor(f.c.Scaled(quiet), 0)
					if closed || len(got) == 0 {
						break
					}
					t.Mismatch("one reply per line", "more: %s", spec.Excerpt(got, 100))
				}
			}
			servesAnother(t)
		})

	rfc959_4_2_1.It("no-data-connection", spec.MUST, "keeps serving others while a client never opens the data connection it asked for",
		spec.Inferred("425 Can't open data connection.", old+"; the reply the server owes the client that never connects, instead of hanging"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("never", []byte("never\n"))
			f.must("TYPE I", 200)
			f.must("PASV", 227)
			f.send("RETR " + path)
			servesAnother(t)
			got, closed, err := f.c.ReadFor(f.c.Scaled(2*quiet), 4<<10)
			t.Check(err)
			for _, l := range splitLines(got) {
				if !regexp3.MatchString(l) || l[0] == '2' {
					t.Mismatch("a 1yz, then 425 (or another 4yz or 5yz) when the connection never comes", "%q (closed: %v)", l, closed)
				}
			}
		})

	rfc959_3_4.It("slow-reader", spec.MUST, "completes a transfer to a slow reader with every byte, serving others meanwhile",
		spec.Inferred("All data transfers must be completed with an end-of-file (EOF) which may be explicitly stated or implied by the closing of the data connection.", old), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(4 << 20)
			path := f.scratch("slow", data)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			var got []byte
			for i := 0; i < 10; i++ {
				b, err := c.ReadN(4 << 10)
				t.Check(err)
				got = append(got, b...)
				time.Sleep(c.Scaled(100 * time.Millisecond)) // the slow reader is the case itself, not synchronisation
			}
			servesAnother(t)
			rest, err := c.ReadUntilClose(maxData)
			t.Check(err)
			c.Close()
			got = append(got, rest...)
			expectCode(t, f.read(), "the reply after the slow transfer", 226, 250)
			if !bytes.Equal(got, data) {
				t.Check(spec.Equal("the file read slowly", data, got))
			}
		})

	rfc959_4_1_3.It("stor-complete-at-226", spec.MUST, "has the whole file in place, for another session, once STOR's 226 came",
		spec.Inferred("This command causes the server-DTP to accept the data transferred via the data connection and to store the data as a file at the server site.", old+"; the 226 closes the transfer, so what it acknowledges is stored").SharedBecause("the durability case: another session sees the whole file at once"), func(t *spec.T) {
			f := loggedIn(t)
			g := loggedIn(t)
			g.must("TYPE I", 200)
			data := binaryData(3 << 20)
			path := uploadDir + "/" + unique("durable")
			f.must("TYPE I", 200)
			expectTransfer(t, "STOR", f.store(viaPASV, "STOR "+path, data))
			if r := g.cmd("SIZE " + path); r.code == 213 && r.text() != strconv.Itoa(len(data)) {
				t.Mismatch("SIZE "+strconv.Itoa(len(data))+" right after the 226", "%s", r)
			}
			t.Check(spec.Equal("the file another session reads right after the 226", data, g.getFile(path)))
		})
})
