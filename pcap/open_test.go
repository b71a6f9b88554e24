package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	. "github.com/protospec/protospec/pcap"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// relink rewrites an Ethernet frame for another link type.
func relink(frame []byte, lt layers.LinkType) []byte {
	ip := frame[14:]
	switch lt {
	case layers.LinkTypeRaw:
		return ip
	case layers.LinkTypeLinuxSLL:
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 772)
		binary.BigEndian.PutUint16(h[4:], 6)
		binary.BigEndian.PutUint16(h[14:], 0x0800)
		return append(h, ip...)
	case 276: // SLL2
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, 0x0800)
		binary.BigEndian.PutUint32(h[4:], 1)
		binary.BigEndian.PutUint16(h[8:], 772)
		h[11] = 6
		return append(h, ip...)
	case layers.LinkTypeNull:
		h := make([]byte, 4)
		binary.LittleEndian.PutUint32(h, 2)
		return append(h, ip...)
	case layers.LinkTypeLoop:
		h := make([]byte, 4)
		binary.BigEndian.PutUint32(h, 2)
		return append(h, ip...)
	}
	return frame
}

// dissectAll returns the summaries of the messages in a capture.
func dissectAll(t *testing.T, data []byte) (*Summary, string) {
	t.Helper()
	sum, msgs, _ := analyze(t, data, Options{})
	var lines []string
	for _, m := range msgs {
		lines = append(lines, m.String())
	}
	return sum, strings.Join(lines, "\n")
}

const wantHTTP = "flow 1 -> client#0 GET / HTTP/1.1\nflow 1 <- server#0 HTTP/1.1 200 OK (answers #0)"

func TestOpenFormats(t *testing.T) {
	pkts := frames(t)
	var ngMulti bytes.Buffer
	{
		// pcapng with three interfaces of different link types, packets
		// spread over them.
		w, err := pcapgo.NewNgWriter(&ngMulti, layers.LinkTypeEthernet)
		must(t, err)
		raw, _ := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, TimestampResolution: 6})
		sll2, _ := w.AddInterface(pcapgo.NgInterface{LinkType: 276, TimestampResolution: 9})
		for i, p := range pkts {
			iface, data := []int{0, raw, sll2}[i%3], p.Data
			if iface == raw {
				data = relink(data, layers.LinkTypeRaw)
			} else if iface == sll2 {
				data = relink(data, 276)
			}
			must(t, w.WritePacket(gopacket.CaptureInfo{Timestamp: p.TS, CaptureLength: len(data), Length: len(data), InterfaceIndex: iface}, data))
		}
		must(t, w.Flush())
	}
	var goWriter bytes.Buffer
	{
		w := pcapgo.NewWriterNanos(&goWriter)
		must(t, w.WriteFileHeader(65535, layers.LinkTypeLinuxSLL))
		for _, p := range pkts {
			d := relink(p.Data, layers.LinkTypeLinuxSLL)
			must(t, w.WritePacket(gopacket.CaptureInfo{Timestamp: p.TS, CaptureLength: len(d), Length: len(d)}, d))
		}
	}
	withLink := func(lt layers.LinkType) []rawPacket {
		var out []rawPacket
		for _, p := range pkts {
			d := relink(p.Data, lt)
			out = append(out, rawPacket{TS: p.TS, Data: d, OrigLen: len(d)})
		}
		return out
	}
	cases := []struct {
		name   string
		data   []byte
		format Format
	}{
		{"pcap-le-micro-ethernet", classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts), FormatPcap},
		{"pcap-be-micro-raw", classic(binary.BigEndian, false, layers.LinkTypeRaw, 65535, withLink(layers.LinkTypeRaw)), FormatPcap},
		{"pcap-le-nano-null", classic(binary.LittleEndian, true, layers.LinkTypeNull, 65535, withLink(layers.LinkTypeNull)), FormatPcap},
		{"pcap-be-nano-loop", classic(binary.BigEndian, true, layers.LinkTypeLoop, 65535, withLink(layers.LinkTypeLoop)), FormatPcap},
		{"pcap-sll-pcapgo", goWriter.Bytes(), FormatPcap},
		{"pcapng-le-synth", capture(t, func(w *Writer) {
			httpExchange(t, w, cli, t0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
		}), FormatPcapNG},
		{"pcapng-multi-interface", ngMulti.Bytes(), FormatPcapNG},
		{"pcapng-be-sll", bigEndianNG(layers.LinkTypeLinuxSLL, withLink(layers.LinkTypeLinuxSLL)), FormatPcapNG},
		{"pcap-gzip", gz(classic(binary.BigEndian, true, layers.LinkTypeEthernet, 65535, pkts)), FormatPcap},
		{"pcapng-gzip", gz(ngMulti.Bytes()), FormatPcapNG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(c.data))
			must(t, err)
			if r.Format != c.format {
				t.Errorf("format %s, want %s", r.Format, c.format)
			}
			// Timestamps survive at the file's resolution.
			p, err := r.Next()
			must(t, err)
			if d := p.Timestamp.Sub(pkts[0].TS); d < 0 || d >= time.Microsecond {
				t.Errorf("first timestamp %v, want %v", p.Timestamp, pkts[0].TS)
			}
			sum, got := dissectAll(t, c.data)
			if got != wantHTTP {
				t.Errorf("dissected:\n%s\nwant:\n%s", got, wantHTTP)
			}
			if sum.Read.Packets != len(pkts) || sum.Segments != len(pkts) || sum.NWarnings != 0 || sum.Gaps != 0 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

func TestOpenDamage(t *testing.T) {
	pkts := frames(t)
	good := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts)
	ng := capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	})
	bogusCap := append([]byte(nil), good...)
	// Third record's capture length: 4 GiB.
	off := 24
	for i := 0; i < 2; i++ {
		off += 16 + int(binary.LittleEndian.Uint32(bogusCap[off+8:]))
	}
	binary.LittleEndian.PutUint32(bogusCap[off+8:], 0xffffffff)
	// A pcapng EPB whose capture length exceeds its block: skipped, the
	// file goes on.
	badEPB := append([]byte(nil), ng...)
	{
		o := 0
		n := 0
		for o+8 <= len(badEPB) {
			typ, l := binary.LittleEndian.Uint32(badEPB[o:]), int(binary.LittleEndian.Uint32(badEPB[o+4:]))
			if typ == NgEPB {
				n++
				if n == 3 {
					binary.LittleEndian.PutUint32(badEPB[o+20:], 1<<20)
					break
				}
			}
			o += l
		}
	}
	cases := []struct {
		name     string
		data     []byte
		packets  int
		corrupt  bool
		skipped  int
		warnings int
	}{
		{"pcap-truncated", good[:len(good)-7], len(pkts) - 1, true, 0, 1},
		{"pcap-truncated-header", good[:len(good)-len(pkts[len(pkts)-1].Data)-10], len(pkts) - 1, true, 0, 1},
		{"pcap-bogus-caplen", bogusCap, 2, true, 0, 1},
		{"pcapng-truncated", ng[:len(ng)-30], len(pkts) - 1, true, 0, 1},
		{"pcapng-bad-epb", badEPB, len(pkts) - 1, false, 1, 1},
		{"pcapng-garbage-after", append(append([]byte(nil), ng...), bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 50)...), len(pkts), true, 0, 1},
		{"gzip-truncated", gz(good)[:len(gz(good))/2], -1, true, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(c.data))
			must(t, err)
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				must(t, err)
				n++
			}
			st := r.Stats()
			warns, nw := r.Warnings()
			if (c.packets >= 0 && n != c.packets) || st.Corrupt != c.corrupt || st.Skipped != c.skipped || nw != c.warnings || len(warns) != nw {
				t.Errorf("packets %d stats %+v warnings %q", n, st, warns)
			}
			// Analyze copes too, without an error.
			_, _, _ = analyze(t, c.data, Options{})
		})
	}
	for _, garbage := range [][]byte{nil, []byte("GET / HTTP/1.1\r\n\r\n"), bytes.Repeat([]byte{0}, 100), {0x1f, 0x8b, 0, 0}} {
		if _, err := Open(bytes.NewReader(garbage)); err == nil {
			t.Errorf("Open(%q) succeeded", garbage)
		} else if len(garbage) > 4 && garbage[0] != 0x1f && !errors.Is(err, ErrFormat) {
			t.Errorf("Open(%q): %v, want ErrFormat", garbage, err)
		}
	}
}

// TestSnaplenCut: packets cut by the snap length leave holes the
// reassembly reports and the dissector marks, without losing the framing.
func TestSnaplenCut(t *testing.T) {
	body := strings.Repeat("b", 3000)
	data := capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n"+body, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
	})
	r, err := Open(bytes.NewReader(data))
	must(t, err)
	var pkts []rawPacket
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		pkts = append(pkts, rawPacket{TS: p.Timestamp, Data: append([]byte(nil), p.Data...), OrigLen: p.OrigLen})
	}
	cut := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 200, pkts)
	sum, msgs, flows := analyze(t, cut, Options{})
	if sum.Read.Cut == 0 || flows[0].Gaps == 0 {
		t.Fatalf("summary %+v flows %+v", sum, flows[0])
	}
	got := strings.Join(summaries(msgs), "\n")
	want := "flow 1 -> client#0 GET /big HTTP/1.1\nflow 1 <- server#0 HTTP/1.1 200 OK (answers #0) [truncated]\nflow 1 -> client#1 GET /next HTTP/1.1\nflow 1 <- server#1 HTTP/1.1 204 No Content (answers #1)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if msgs[1].Len != int64(len("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n")+3000) {
		t.Errorf("length %d", msgs[1].Len)
	}
}
