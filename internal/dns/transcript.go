package dns

import (
	"encoding/binary"
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/reports"
)

// The reports show each DNS message of a spec's transcript decoded
// dig-style next to its bytes.
func init() { reports.RegisterDecoder(Name, DecodeTranscript) }

// maxFrames bounds the messages DecodeTranscript reads from one event
// (a TCP stream may hold an AXFR's many).
const maxFrames = 32

// DecodeTranscript renders the bytes of one send or receive as dig shows
// a message: a datagram, or over TCP one or more messages each behind its
// two-byte length. It returns false for bytes that are not whole DNS
// messages (the suite sends malformed ones on purpose).
func DecodeTranscript(b []byte) (string, bool) {
	if frames, ok := tcpFrames(b); ok {
		var out []string
		for i, f := range frames {
			m := new(mdns.Msg)
			if err := m.Unpack(f); err != nil {
				out = nil
				break
			}
			text := strings.TrimRight(m.String(), "\n")
			if len(frames) > 1 {
				text = fmt.Sprintf(";; TCP message %d of %d, %d bytes\n%s", i+1, len(frames), len(f), text)
			}
			out = append(out, text)
		}
		if out != nil {
			return strings.Join(out, "\n\n"), true
		}
	}
	m := new(mdns.Msg)
	if err := m.Unpack(b); err != nil {
		return "", false
	}
	return strings.TrimRight(m.String(), "\n"), true
}

// tcpFrames splits b into the messages of a TCP stream when its length
// prefixes cover it exactly.
func tcpFrames(b []byte) ([][]byte, bool) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2+12 || len(out) == maxFrames {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(b))
		if n < 12 || 2+n > len(b) {
			return nil, false
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, len(out) > 0
}
