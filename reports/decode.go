package reports

import (
	"strconv"
	"strings"
	"sync"
)

// A Decoder renders the bytes of one send or receive event as its
// protocol reads them (a DNS message dig-style). It returns false when
// the bytes are not a message it can decode; it must not panic on any
// input.
type Decoder func(data []byte) (string, bool)

var (
	decodersMu sync.RWMutex
	decoders   = map[string]Decoder{}
)

// RegisterDecoder makes d the transcript decoder of a protocol: the
// reports show, next to the bytes of each event of that protocol's
// specs, what d makes of them. A protocol package calls it from init;
// the reports stay protocol-free. A second registration replaces the
// first.
func RegisterDecoder(protocol string, d Decoder) {
	decodersMu.Lock()
	defer decodersMu.Unlock()
	if d == nil {
		delete(decoders, protocol)
		return
	}
	decoders[protocol] = d
}

// maxDecoded bounds the text a decoder may add to one event.
const maxDecoded = 16 << 10

// Decode renders data with the decoder registered for protocol; false
// when there is none, or it cannot decode the bytes.
func Decode(protocol string, data []byte) (text string, ok bool) {
	decodersMu.RLock()
	d := decoders[protocol]
	decodersMu.RUnlock()
	if d == nil || len(data) == 0 {
		return "", false
	}
	defer func() {
		if recover() != nil { // a decoder's bug is no reason to lose the report
			text, ok = "", false
		}
	}()
	text, ok = d(data)
	text = strings.TrimRight(text, "\n")
	if !ok || text == "" {
		return "", false
	}
	if len(text) > maxDecoded {
		text = text[:maxDecoded] + "\n..."
	}
	return text, true
}

// DecodeEvents fills in Decoded for the send and receive events that
// protocol's decoder can read and that have none yet. It reads the bytes
// back from Data, so an event cut short (Truncated) is left alone.
func DecodeEvents(protocol string, evs []Event) {
	for i := range evs {
		e := &evs[i]
		if e.Decoded != "" || e.Truncated || (e.Dir != DirSend && e.Dir != DirRecv) {
			continue
		}
		raw, ok := eventBytes(e.Data)
		if !ok {
			continue
		}
		if text, ok := Decode(protocol, raw); ok {
			e.Decoded = text
		}
	}
}

// eventBytes reads back the bytes an event's Data shows.
func eventBytes(data string) ([]byte, bool) {
	s, err := strconv.Unquote(`"` + eventData(data) + `"`)
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}

// EscapeBytes renders bytes as an event's Data: Go string-literal escapes,
// without the quotes (the reports add them).
func EscapeBytes(b []byte) string {
	q := strconv.Quote(string(b))
	return q[1 : len(q)-1]
}

// eventData is an event's Data as the reports show it between quotes.
// Some producers stored a quoted literal ("\"GET / ...\"") where an
// escaped excerpt belongs, which read as send ""GET ...""; such a literal
// is unquoted once. An escaped excerpt never starts with a bare quote
// (the escapes write \"), so nothing else is changed.
func eventData(data string) string {
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		if _, err := strconv.Unquote(data); err == nil {
			return data[1 : len(data)-1]
		}
	}
	return data
}
