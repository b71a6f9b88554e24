package ftp

import (
	"os"
	"strings"
	"testing"
)

// ftplibScript logs in as the fixture's user with ftplib.FTP, or
// ftplib.FTP_TLS (AUTH TLS, the run's CA, PROT P), in passive and in
// active mode, and for each: STOR, SIZE, RETR, NLST, LIST, MLSD (when
// FEAT lists it), RNFR/RNTO, DELE, MKD, CWD, PWD, RMD, and an ASCII-mode
// upload (storlines). It prints one "ok" line a mode, and the ASCII
// file's remote name for the test to check on disk.
const ftplibScript = `
import ftplib, io, ssl, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = bytes(range(256)) * 777 + b"\r\n\n\r"
for passive in (True, False):
    if ca:
        f = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=ca), timeout=20)
    else:
        f = ftplib.FTP(timeout=20)
    f.connect(host, port)
    f.login("bob", "bob")
    if ca:
        f.prot_p()
    f.set_pasv(passive)
    mode = ("tls-" if ca else "") + ("passive" if passive else "active")
    name = "upload/py-%s.bin" % mode
    f.storbinary("STOR " + name, io.BytesIO(data))
    f.voidcmd("TYPE I")
    assert f.size(name) == len(data), f.size(name)
    got = bytearray()
    f.retrbinary("RETR " + name, got.extend)
    assert bytes(got) == data, len(got)
    names = [n.rsplit("/", 1)[-1] for n in f.nlst("upload")]
    assert "py-%s.bin" % mode in names, names
    lines = []
    f.retrlines("LIST upload", lines.append)
    assert any(l.endswith("py-%s.bin" % mode) for l in lines), lines
    feat = f.sendcmd("FEAT")
    if "MLST" in feat:
        facts = dict(f.mlsd("upload"))
        assert facts["py-%s.bin" % mode]["type"] == "file", facts
        assert int(facts["py-%s.bin" % mode]["size"]) == len(data), facts
    f.rename(name, name + ".renamed")
    f.delete(name + ".renamed")
    d = f.mkd("upload/dir-" + mode)
    f.cwd("upload/dir-" + mode)
    assert f.pwd().endswith("/upload/dir-" + mode), f.pwd()
    text = "first line\nsecond line\n"
    f.storlines("STOR ascii.txt", io.BytesIO(text.encode()))
    f.cwd("/")
    print("ok", mode, "upload/dir-%s/ascii.txt" % mode)
    f.quit()
`

// TestPythonFtplib runs ftplibScript plain and over TLS, and checks the
// ASCII-mode uploads on disk: storlines sends CRLF lines in TYPE A, which
// the server stores with its own line ends (LF).
func TestPythonFtplib(t *testing.T) {
	py := need(t, "python3")
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "FTP", true: "FTP_TLS"}[tls], func(t *testing.T) {
			s := serve(t, tls)
			out := run(t, py, "-c", ftplibScript, s.host, s.port, s.ca)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("ftplib printed:\n%s", out)
			}
			for _, l := range lines {
				f := strings.Fields(l)
				if len(f) != 3 || f[0] != "ok" {
					t.Fatalf("ftplib printed %q", l)
				}
				got, err := os.ReadFile(s.bobPath(f[2]))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != "first line\nsecond line\n" {
					t.Errorf("%s: ASCII upload stored as %q, want LF line ends", f[1], got)
				}
			}
		})
	}
}
