package ftp

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc959_5_1 = spec.Section(proto, "rfc959", "5.1", "Minimum Implementation")
	rfc959_5_2 = spec.Section(proto, "rfc959", "5.2", "Connections")
	rfc959_5_3 = spec.Section(proto, "rfc959", "5.3", "Commands")
)

// minimum is the sentence of RFC 959 5.1 that lists the commands every
// server implements; one spec per command.
const minimum = "In order to make FTP workable without needless error messages, the following minimum implementation is required for all servers:"

var _ = Describe("RFC 959 5 declarative specifications", func() {
	for _, c := range []struct {
		cmd  string
		run  func(t *spec.T, f *ftpc) reply
		want []int
	}{
		{"USER", func(t *spec.T, f *ftpc) reply { return f.cmd("USER " + user) }, []int{230, 331}},
		{"QUIT", func(t *spec.T, f *ftpc) reply { return f.cmd("QUIT") }, []int{221}},
		{"PORT", func(t *spec.T, f *ftpc) reply {
			ln, err := t.Listen(service, f.localIP().String())
			t.Check(err)
			return f.cmd("PORT " + hostPortOf(f, ln.Port()))
		}, []int{200}},
		{"TYPE", func(t *spec.T, f *ftpc) reply { return f.cmd("TYPE A") }, []int{200}},
		{"MODE", func(t *spec.T, f *ftpc) reply { return f.cmd("MODE S") }, []int{200}},
		{"STRU", func(t *spec.T, f *ftpc) reply { return f.cmd("STRU F") }, []int{200}},
		{"RETR", func(t *spec.T, f *ftpc) reply {
			path := f.scratch("minimum", []byte("min\n"))
			x := f.retrieve(viaPASV, "RETR "+path)
			return x.final
		}, []int{226, 250}},
		{"STOR", func(t *spec.T, f *ftpc) reply {
			f.must("TYPE I", 200)
			return f.store(viaPASV, "STOR "+uploadDir+"/"+unique("minimum"), []byte("min\n")).final
		}, []int{226, 250}},
		{"NOOP", func(t *spec.T, f *ftpc) reply { return f.cmd("NOOP") }, []int{200}},
	} {
		rfc959_5_1.It("minimum-"+strings.ToLower(c.cmd), spec.MUST, "implements "+c.cmd+", of the minimum implementation",
			spec.Inferred(minimum+" ... COMMANDS - USER, QUIT, PORT, TYPE, MODE, STRU, for the default values RETR, STOR, NOOP.", old+"; \"required\" is RFC 959's own").SharedBecause("one spec per command of the minimum implementation"), func(t *spec.T) {
				var f *ftpc
				if c.cmd == "USER" {
					f = connect(t)
				} else {
					f = loggedIn(t)
				}
				expectCode(t, c.run(t, f), "the reply to "+c.cmd, c.want...)
			})
	}

	rfc959_5_1.It("default-values", spec.MUST, "accepts TYPE A N, MODE S and STRU F, the standard defaults",
		spec.Inferred("All hosts must accept the above as the standard defaults.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE A N", 200)
			f.must("MODE S", 200)
			f.must("STRU F", 200)
		})

	rfc959_5_2.It("closes-after-transfers", spec.MUST, "answers QUIT sent during a transfer after the transfer's reply, then closes",
		spec.Inferred("The control connection shall be closed by the server at the user's request after all transfers and replies are completed.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.bigFile("quit-during", bigSize)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			_, err := c.ReadN(32 << 10)
			t.Check(err)
			wait := drain(c, 4*t.StepTimeout())
			f.send("QUIT")
			r := f.read()
			for i := 0; i < 2 && r.code != 221; i++ {
				expectCode(t, r, "the transfer's reply before QUIT's", 226, 250, 426, 451)
				r = f.read()
			}
			expectCode(t, r, "the reply to QUIT", 221)
			t.Check(f.c.ExpectClosed(t.StepTimeout()))
			wait()
		})

	rfc959_5_2.It("reply-after-close", spec.MUST, "sends 226 only once the data connection is closed",
		spec.Inferred(`To prevent a race condition here, the server sends a reply (226) after closing the data connection (or if the connection is left open, a "file transfer completed" reply (250) and the user-PI should wait for one of these replies before issuing a new transfer command).`, old), func(t *spec.T) {
			f := loggedIn(t)
			if f.prot {
				t.Skipf("not applicable over PROT P: a server may wait for the client's TLS close_notify before its 226, so the order of the close and the reply is the client's")
			}
			path := f.scratch("race", binaryData(100))
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			// Read the data while the server has it open: a close within
			// the window, then the 226, is the order asked; a data
			// connection still open when the 226 came is not.
			got, closed, err := c.ReadFor(c.Scaled(4*quiet), 1<<10)
			t.Check(err)
			if closed {
				c.Close()
				expectCode(t, f.read(), "the reply after the close", 226, 250)
				t.Check(spec.Equal("the data", binaryData(100), got))
				return
			}
			r := f.read()
			if r.code == 226 {
				t.Mismatch("the data connection closed before the 226", "still open when %s came (%d bytes read)", r, len(got))
			}
			expectCode(t, r, "the reply to a transfer whose data connection stays open", 250)
		})

	rfc959_5_3.It("command-case", spec.MUST, "treats upper and lower case command codes alike",
		spec.Inferred("Upper and lower case alphabetic characters are to be treated identically.", old), func(t *spec.T) {
			f := connect(t)
			r := f.cmd("user " + user)
			if r.code == 331 {
				r = f.cmd("pAsS " + password)
			}
			expectCode(t, r, "the login in lower and mixed case", 230)
			f.must("noop", 200)
			f.must("Pwd", 257)
			f.must("cwd "+uploadDir, 250)
		})

	rfc959_5_3.It("parameter-case", spec.MUST, "treats upper and lower case parameter symbols alike",
		spec.Inferred("This also applies to any symbols representing parameter values, such as A or a for ASCII TYPE.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE a", 200)
			f.must("type i", 200)
			f.must("MODE s", 200)
			f.must("stru f", 200)
		})

	rfc959_5_3.It("waits-for-end-of-line", spec.MUST, "takes no action on a command until its CR LF arrives",
		spec.Inferred("It should be noted that the server is to take no action until the end of line code is received.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.c.Send("NOOP")
			got, closed, err := f.c.ReadFor(f.c.Scaled(2*quiet), 1<<10)
			t.Check(err)
			if len(got) > 0 || closed {
				t.Mismatch("no reply before the end of line", "%s (closed: %v)", spec.Excerpt(got, 100), closed)
			}
			f.c.Send("\r\n")
			expectCode(t, f.read(), "the reply to NOOP once its CR LF came", 200)
		})
})
