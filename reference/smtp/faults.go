package smtp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// FaultParam is the start param (targets.Options.Params) naming the
// faults a reference started for a run carries, comma-separated
// ("open-relay,no-received"): the mutants of suites/smtp turn the
// reference into a known-broken server with it. It is no param of
// `protospec serve`.
const FaultParam = "fault"

// Faults are deliberate defects of the reference, each breaking one rule
// that a spec of suites/smtp must catch. The zero value breaks nothing.
type Faults struct {
	// OpenRelay accepts RCPT for any domain (a foreign recipient's mail
	// goes to the postmaster mailbox): an open relay (RFC 5321 7.1, 3.6.2).
	OpenRelay bool
	// AckBeforeDurable answers 250 to the end of data and never stores
	// the message (RFC 5321 6.1).
	AckBeforeDurable bool
	// BareLFEnd takes a line "." ended by a bare LF, after any line, as
	// the end of the text (RFC 5321 4.1.1.4: "<LF>.<LF>" MUST NOT end it).
	BareLFEnd bool
	// STARTTLSInjection keeps what the client sent after STARTTLS before
	// the handshake and reads it as commands inside TLS (CVE-2011-0411,
	// RFC 3207 6).
	STARTTLSInjection bool
	// NoReceived adds no Received field to a delivered message (RFC 5321
	// 4.4).
	NoReceived bool
	// DataOutOfSequence answers 250 to DATA without a transaction with a
	// recipient, instead of 503 (RFC 5321 4.1.4, 4.3.2).
	DataOutOfSequence bool
	// MultilineNoHyphen sends every line of a multi-line reply with a
	// space after the code, so each reads as a reply of its own (RFC 5321
	// 4.2.1).
	MultilineNoHyphen bool
}

// faultNames maps the names of FaultParam to the fields they set.
var faultNames = map[string]func(*Faults){
	"open-relay":           func(f *Faults) { f.OpenRelay = true },
	"ack-before-durable":   func(f *Faults) { f.AckBeforeDurable = true },
	"bare-lf-end":          func(f *Faults) { f.BareLFEnd = true },
	"starttls-injection":   func(f *Faults) { f.STARTTLSInjection = true },
	"no-received":          func(f *Faults) { f.NoReceived = true },
	"data-out-of-sequence": func(f *Faults) { f.DataOutOfSequence = true },
	"multiline-no-hyphen":  func(f *Faults) { f.MultilineNoHyphen = true },
}

// FaultNames lists the names ParseFaults takes.
func FaultNames() []string {
	out := make([]string, 0, len(faultNames))
	for n := range faultNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParseFaults parses FaultParam's value: fault names separated by commas
// ("" is no fault).
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		set, ok := faultNames[name]
		if !ok {
			return Faults{}, fmt.Errorf("%s %q: no such fault (known: %s)", FaultParam, name, strings.Join(FaultNames(), ", "))
		}
		set(&f)
	}
	return f, nil
}

// injected is the reader of a session after STARTTLS with the fault
// STARTTLSInjection: the plaintext the client sent before the handshake,
// then the TLS connection.
func injected(before *bufio.Reader, tc io.Reader) *bufio.Reader {
	pending, _ := before.Peek(before.Buffered())
	return bufio.NewReaderSize(io.MultiReader(bytes.NewReader(append([]byte(nil), pending...)), tc), readBuf)
}

// trace is the trace fields a session puts in front of a message, less
// its Received field with the fault NoReceived.
func (f Faults) trace(fields string) string {
	if !f.NoReceived {
		return fields
	}
	var out strings.Builder
	skip := false
	for _, line := range strings.SplitAfter(fields, "\r\n") {
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			skip = len(line) >= 9 && strings.EqualFold(line[:9], "received:")
		}
		if !skip {
			out.WriteString(line)
		}
	}
	return out.String()
}
