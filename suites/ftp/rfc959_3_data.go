package ftp

import (
	"bytes"
	"net/netip"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc959_3_1       = spec.Section(proto, "rfc959", "3.1", "Data Representation and Storage")
	rfc959_3_1_1_1   = spec.Section(proto, "rfc959", "3.1.1.1", "ASCII Type")
	rfc959_3_1_1_3   = spec.Section(proto, "rfc959", "3.1.1.3", "Image Type")
	rfc959_3_1_1_4   = spec.Section(proto, "rfc959", "3.1.1.4", "Local Type")
	rfc959_3_1_1_5_1 = spec.Section(proto, "rfc959", "3.1.1.5.1", "Non Print")
	rfc959_3_1_2_2   = spec.Section(proto, "rfc959", "3.1.2.2", "Record Structure")
	rfc959_3_2       = spec.Section(proto, "rfc959", "3.2", "Establishing Data Connections")
	rfc959_3_3       = spec.Section(proto, "rfc959", "3.3", "Data Connection Management")
)

// utf8Text is text with bytes over 0x7f, which TYPE A carries as 8-bit
// bytes.
var utf8Text = []byte("caf\xc3\xa9 na\xc3\xafve\n\xe2\x82\xac 1\n")

// mustClose is the sentence of RFC 959 3.2 that lists when the server
// closes the data connection; one spec per condition.
const mustClose = "The server MUST close the data connection under the following conditions:"

var _ = Describe("RFC 959 3.1 data representation", func() {
	rfc959_3_1_1_1.It("ascii-sends-crlf", spec.MUST, "sends a stored LF text file with CR LF line ends in TYPE A (one byte more per line)",
		spec.Inferred("The sender converts the data from an internal character representation to the standard 8-bit NVT-ASCII representation (see the Telnet specification).", old+"; NVT-ASCII ends lines with CR LF"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("ascii-get", lfText)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR in TYPE A", x)
			t.Check(spec.Equal("the LF text file in TYPE A", crlf(lfText), x.data))
		})

	rfc959_3_1_1_1.It("ascii-receives-crlf", spec.MUST, "stores CR LF text sent in TYPE A in its own form, the one its TYPE A sending converts from",
		spec.Inferred("The receiver will convert the data from the standard form to his own internal form.", old), func(t *spec.T) {
			f := loggedIn(t)
			probe := f.scratch("ascii-probe", lfText)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "RETR "+probe)
			expectTransfer(t, "RETR in TYPE A", x)
			if bytes.Equal(x.data, lfText) {
				t.Skipf("not applicable: the server sends its LF files unchanged in TYPE A, so its internal form cannot be told (ascii-sends-crlf judges that)")
			}
			path := uploadDir + "/" + unique("ascii-put")
			expectTransfer(t, "STOR in TYPE A", f.store(viaPASV, "STOR "+path, crlf(lfText)))
			t.Check(spec.Equal("the stored file in TYPE I (the server's LF form)", lfText, f.getFile(path)))
		})

	rfc959_3_1_1_1.It("ascii-8-bit", spec.MUST, "carries bytes over 0x7f unchanged in TYPE A",
		spec.Inferred("Using the standard NVT-ASCII representation means that data must be interpreted as 8-bit bytes.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("ascii-8bit", utf8Text)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR in TYPE A", x)
			got := bytes.ReplaceAll(x.data, []byte("\r\n"), []byte("\n"))
			t.Check(spec.Equal("the 8-bit text in TYPE A, line ends aside", utf8Text, got))
		})

	rfc959_3_1.It("same-parameters-identical", spec.MUST, "returns CR LF text stored and retrieved in TYPE A identical",
		spec.Inferred("Conversely, FTP implementations must return a file identical to the original if the parameters used to store and retrieve a file are the same.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE A", 200)
			path := uploadDir + "/" + unique("ascii-round")
			text := crlf(lfText)
			expectTransfer(t, "STOR in TYPE A", f.store(viaPASV, "STOR "+path, text))
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR in TYPE A", x)
			t.Check(spec.Equal("the text stored and retrieved in TYPE A", text, x.data))
		})

	rfc959_3_1_1_3.It("image-exact", spec.MUST, "stores and sends every byte value unchanged in TYPE I, CR and LF included",
		spec.Inferred("The receiving site must store the data as contiguous bits.", old), func(t *spec.T) {
			f := loggedIn(t)
			data := append(binaryData(4096), []byte("\r\n\n\r\r\r\n\x00\xff")...)
			path := f.scratch("image", data)
			t.Check(spec.Equal("the file in TYPE I", data, f.getFile(path)))
		})

	rfc959_3_1_1_3.It("image-accepted", spec.SHOULD, "accepts TYPE I",
		spec.Inferred("It is recommended that this type be accepted by all FTP implementations.", old+"; lower-case recommended"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
		})

	rfc959_3_1_1_4.It("local-8-invertible", spec.MUST, "returns a file stored in TYPE L 8 identical when retrieved in TYPE L 8 (or refuses the type with 504)",
		spec.Inferred("This transformation must be invertible (i.e., an identical file can be retrieved if the same parameters are used) and should be well publicized by the FTP implementors.", old), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("TYPE L 8")
			if r.code == 504 || r.code == 501 {
				t.Skipf("not applicable: the server refuses TYPE L 8 (%d)", r.code)
			}
			expectCode(t, r, "the reply to TYPE L 8", 200)
			data := binaryData(2000)
			path := uploadDir + "/" + unique("local8")
			expectTransfer(t, "STOR in TYPE L 8", f.store(viaPASV, "STOR "+path, data))
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR in TYPE L 8", x)
			t.Check(spec.Equal("the file in TYPE L 8", data, x.data))
		})

	rfc959_3_1_1_5_1.It("non-print-accepted", spec.MUST, "accepts TYPE A N",
		spec.Inferred("Non-print format must be accepted by all FTP implementations.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE A N", 200)
		})

	rfc959_3_1_2_2.It("record-structure-accepted", spec.MUST, "answers STRU R for TYPE A with 200, or with 504 where files have no records",
		spec.Inferred(`Record structures must be accepted for "text" files (i.e., files with TYPE ASCII or EBCDIC) by all FTP implementations.`, "RFC 1123 4.1.2.13 keeps record structure required only of hosts whose file systems have records: the others refuse the parameter (504), and STRU itself stays implemented"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE A", 200)
			f.must("STRU R", 200, 504)
			f.must("STRU F", 200)
		})
})

var _ = Describe("RFC 959 3.2 and 3.3 data connections", func() {
	rfc959_3_2.It("close-at-eof", spec.MUST, "closes the data connection at the end of a stream-mode RETR, before its 226",
		spec.Quote(mustClose+" 1. The server has completed sending data in a transfer mode that requires a close to indicate EOF."), func(t *spec.T) {
			f := loggedIn(t)
			if f.prot {
				t.Skipf("not applicable over PROT P: a server may wait for the client's TLS close_notify before its 226, so the order of the close and the reply is the client's")
			}
			path := f.scratch("close-eof", []byte("eof\n"))
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			// The client reads what comes and closes its side once the
			// server closed (RFC 959 5.2): some servers wait for that
			// before their 226.
			got, err := c.ReadUntilClose(1 << 10)
			t.Check(err)
			c.Close()
			t.Check(spec.Equal("the data", []byte("eof\n"), got))
			expectCode(t, f.read(), "the reply after the transfer", 226, 250)
		})

	rfc959_3_2.It("close-on-abort", spec.MUST, "closes the data connection of a transfer aborted with ABOR",
		spec.Quote(mustClose+" 2. The server receives an ABORT command from the user."), func(t *spec.T) {
			f := loggedIn(t)
			path := f.bigFile("close-abor", bigSize)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			_, err := c.ReadN(16 << 10)
			t.Check(err)
			wait := drain(c, 4*t.StepTimeout())
			f.send("ABOR")
			r := f.read()
			if r.class() == 4 {
				r = f.read()
			}
			expectCode(t, r, "the reply to ABOR (or the transfer's end)", 225, 226, 250)
			if _, err := wait(); err != nil && !isReset(err) {
				t.Mismatch("the data connection closed by the server", "%v", err)
			}
		})

	rfc959_3_2.It("close-on-port-change", spec.MUST, "closes an open passive data connection when a new PASV changes the port",
		spec.Quote(mustClose+" 3. The port specification is changed by a command from the user."), func(t *spec.T) {
			f := loggedIn(t)
			d := f.open(viaPASV)
			f.must("PASV", 227)
			got, closed, err := d.conn.ReadFor(d.conn.Scaled(5*quiet), 1<<10)
			t.Check(err)
			if !closed || len(got) > 0 {
				t.Mismatch("the first passive data connection closed, with nothing sent on it", "closed %v, received %s", closed, spec.Excerpt(got, 100))
			}
			f.must("NOOP", 200)
		})

	rfc959_3_2.It("active-connects", spec.MUST, "opens the data connection to the client's PORT for RETR, STOR and LIST",
		spec.Inferred("When the connection is established, the data transfer begins between DTP's, and the server-PI sends a confirming reply to the user-PI.", old), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(20000)
			f.must("TYPE I", 200)
			path := uploadDir + "/" + unique("active")
			expectTransfer(t, "STOR over PORT", f.store(viaPORT, "STOR "+path, data))
			x := f.retrieve(viaPORT, "RETR "+path)
			expectTransfer(t, "RETR over PORT", x)
			t.Check(spec.Equal("the file over PORT", data, x.data))
			f.must("TYPE A", 200)
			expectTransfer(t, "LIST over PORT", f.retrieve(viaPORT, "LIST "+uploadDir))
		})

	rfc959_3_2.It("active-from-server", spec.MUST, "opens the active data connection from the server's own address",
		spec.Inferred("The server, upon receiving the transfer request, will initiate the data connection to the port.", old+"; the server initiates it, from its own host"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("active-from", []byte("from\n"))
			f.must("TYPE I", 200)
			x := f.retrieve(viaPORT, "RETR "+path)
			expectTransfer(t, "RETR over PORT", x)
			ap, _ := netip.ParseAddrPort(x.conn.RemoteAddr())
			if ap.Addr().Unmap() != f.serverIP() {
				t.Mismatch("a data connection from the server's address "+f.serverIP().String(), "%s", x.conn.RemoteAddr())
			}
		})

	rfc959_3_2.It("active-from-l-minus-1", spec.MUST, "opens the active data connection from its default data port L-1 (20 for port 21)",
		spec.Inferred("The server-process default data port is the port adjacent to the control connection port (i.e., L-1).", old), func(t *spec.T) {
			t.Require(featureDataPortL1)
			f := loggedIn(t)
			path := f.scratch("l-minus-1", []byte("20\n"))
			f.must("TYPE I", 200)
			x := f.retrieve(viaPORT, "RETR "+path)
			expectTransfer(t, "RETR over PORT", x)
			ap, _ := netip.ParseAddrPort(x.conn.RemoteAddr())
			if int(ap.Port()) != f.serverPort()-1 {
				t.Mismatch("a data connection from port L-1 = "+itoa(f.serverPort()-1), "%s", x.conn.RemoteAddr())
			}
		})

	rfc959_3_3.It("connection-per-transfer", spec.MUST, "serves several transfers in one session, each on a new data connection",
		spec.Inferred("Since a connection is defined by the pair of addresses, either of these actions is enough to get a different data connection, still it is permitted to do both commands to use new ports on both ends of the data connection.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("many", []byte("again\n"))
			f.must("TYPE I", 200)
			for _, k := range []dataKind{viaPASV, viaPORT, viaPASV, viaPORT, viaPASV} {
				x := f.retrieve(k, "RETR "+path)
				expectTransfer(t, "RETR over "+k.String(), x)
				t.Check(spec.Equal("the file over "+k.String(), []byte("again\n"), x.data))
			}
		})
})
