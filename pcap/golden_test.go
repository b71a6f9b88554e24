package pcap

import (
	"bytes"
	"encoding/binary"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite pcap/testdata from the synthesizer")

// goldenCaptures makes the checked-in captures.
func goldenCaptures(t *testing.T) map[string][]byte {
	req := func(s string) string { return s + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	http := capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, req("GET /hello.txt"), "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, world!\n",
			req("HEAD /index.html"), "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n",
			req("GET /chunked"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			req("GET /gone"), "HTTP/1.1 304 Not Modified\r\n\r\n")
		httpExchange(t, w, addr("127.0.0.1:40001"), t0, "GET /old HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nuntil the end")
	})
	q1, q2 := dnsQuery(1, "www.test."), dnsQuery(2, "mail.test.")
	var dnsPkts []rawPacket
	{
		ng := capture(t, func(w *Writer) {
			must(t, w.UDP(t0, cli, dnsSrv, true, q1, ""))
			must(t, w.UDP(t0, dnsSrv, cli, false, dnsAnswer(q1, "127.0.0.1"), ""))
			tc := w.TCP(addr("127.0.0.1:40002"), dnsSrv, "")
			pre := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
			must(t, tc.Data(t0, true, pre(q2)))
			must(t, tc.Data(t0, false, pre(dnsAnswer(q2, "127.0.0.2"))))
			must(t, tc.Close(t0))
		})
		r, err := Open(bytes.NewReader(ng))
		must(t, err)
		for {
			p, err := r.Next()
			if err != nil {
				break
			}
			dnsPkts = append(dnsPkts, rawPacket{p.Timestamp, append([]byte(nil), p.Data...), p.OrigLen})
		}
	}
	echo := capture(t, func(w *Writer) {
		tc := w.TCP(cli, addr("127.0.0.1:7"), "")
		must(t, tc.Data(t0, true, []byte("hello\nwor")))
		must(t, tc.Data(t0, false, []byte("hello\n")))
		must(t, tc.Data(t0, true, []byte("ld\n")))
		must(t, tc.Data(t0, false, []byte("world\n")))
		must(t, tc.Close(t0))
	})
	rng := rand.New(rand.NewSource(1))
	noise := make([]byte, 2048)
	rng.Read(noise)
	pcapHdr := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, nil)
	return map[string][]byte{
		"http.pcapng":      http,
		"dns-be-nano.pcap": classic(binary.BigEndian, true, layers.LinkTypeEthernet, 65535, dnsPkts),
		"echo.pcapng.gz":   gz(echo),
		"truncated.pcapng": http[:len(http)*2/3],
		"garbage.pcap":     append(pcapHdr, noise...),
		"garbage.bin":      noise[:512],
	}
}

// TestGolden dissects the checked-in captures and compares with the
// .txt next to each; go test ./pcap -run TestGolden -update rewrites both.
func TestGolden(t *testing.T) {
	if *update {
		for name, data := range goldenCaptures(t) {
			must(t, os.WriteFile(filepath.Join("testdata", name), data, 0o644))
		}
	}
	names, err := filepath.Glob("testdata/*")
	must(t, err)
	for _, path := range names {
		if st, err := os.Stat(path); strings.HasSuffix(path, ".txt") || err != nil || st.IsDir() {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			var out strings.Builder
			r, err := OpenFile(path)
			if err != nil {
				out.WriteString("open: " + err.Error() + "\n")
			} else {
				defer r.Close()
				sum, err := Analyze(r, Options{OnMessage: func(m *Message) { out.WriteString(m.String() + "\n") }})
				must(t, err)
				out.WriteString(strings.Join(sum.Warnings, "\n"))
				out.WriteString("\n")
			}
			golden := path + ".txt"
			if *update {
				must(t, os.WriteFile(golden, []byte(out.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			must(t, err)
			if out.String() != string(want) {
				t.Errorf("%s:\n%s\nwant:\n%s", path, out.String(), want)
			}
		})
	}
}
