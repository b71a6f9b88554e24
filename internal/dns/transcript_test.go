package dns

import (
	"encoding/binary"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/reports"
)

func TestDecodeTranscript(t *testing.T) {
	q := new(mdns.Msg)
	q.SetQuestion("www.test.", mdns.TypeA)
	q.Id = 4660
	udp, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	r := new(mdns.Msg)
	r.SetReply(q)
	r.Answer = append(r.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: "www.test.", Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 300}, A: []byte{127, 0, 0, 1}})
	resp, _ := r.Pack()
	tcp := binary.BigEndian.AppendUint16(nil, uint16(len(udp)))
	tcp = append(tcp, udp...)
	tcp = binary.BigEndian.AppendUint16(tcp, uint16(len(resp)))
	tcp = append(tcp, resp...)

	text, ok := DecodeTranscript(udp)
	if !ok || !strings.Contains(text, "opcode: QUERY, status: NOERROR, id: 4660") || !strings.Contains(text, ";www.test.\tIN\t A") {
		t.Errorf("datagram: %v\n%s", ok, text)
	}
	text, ok = DecodeTranscript(tcp)
	if !ok || !strings.Contains(text, ";; TCP message 1 of 2") || !strings.Contains(text, "www.test.\t300\tIN\tA\t127.0.0.1") {
		t.Errorf("tcp stream: %v\n%s", ok, text)
	}
	for _, bad := range [][]byte{nil, []byte("GET / HTTP/1.1\r\n\r\n"), udp[:7], {0, 1, 2}} {
		if text, ok := DecodeTranscript(bad); ok {
			t.Errorf("decoded %q as\n%s", bad, text)
		}
	}
	// Registered with the reports under the protocol's name.
	if got, ok := reports.Decode(Name, udp); !ok || got != strings.TrimRight(q.String(), "\n") {
		t.Errorf("reports.Decode = %v %q", ok, got)
	}
}
