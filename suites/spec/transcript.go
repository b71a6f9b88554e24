package spec

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/reports"
)

// TranscriptEntry is the name of the report entry that carries a spec's
// Transcript.
const TranscriptEntry = "transcript"

// Directions of a transcript event.
const (
	dirSend  = reports.DirSend
	dirRecv  = reports.DirRecv
	dirOpen  = reports.DirOpen
	dirClose = reports.DirClose
	dirNote  = reports.DirNote
)

// maxStored bounds the raw bytes a transcript keeps per spec; beyond it
// only lengths are kept, so an endless stream cannot exhaust memory.
const maxStored = 1 << 20

// maxEvents bounds the events a transcript keeps per spec: past it the
// middle ones are dropped (the first half and the latest stay) and a note
// in their place says how many, so a responder that answers a flood
// cannot grow a report without bound.
const maxEvents = 2000

// ExcerptLen is how many bytes of each event the rendered transcript shows.
const ExcerptLen = 256

// Transcript is what one spec sent and received, in order.
type Transcript struct {
	Events []Event
	// KeyLog is the NSS key log (SSLKEYLOGFILE format) of the spec's TLS
	// sessions, so that a capture of the Wire events can be decrypted.
	KeyLog []byte
}

// Event is one step of a transcript. Data holds the raw bytes (or the
// note's text); it is cut short when the spec moved more than maxStored
// bytes, in which case Len is still the real length.
type Event struct {
	At   time.Duration
	Conn string
	Dir  string
	Len  int
	Data []byte
	// Local and Remote are the addresses (host:port) of the connection
	// or socket the event happened on; Remote is a datagram's source for
	// one received from elsewhere. Empty for notes about no connection.
	Local, Remote string
	// TLS marks application bytes that travelled inside TLS (after the
	// handshake or a STARTTLS upgrade): they are what the spec sent and
	// read, not what the wire carried.
	TLS bool
	// Wire marks the bytes a TLS connection's socket carried (records,
	// handshake included). Wire events are for captures only: String and
	// Report leave them out.
	Wire bool
	// Decoded is the bytes as the spec's protocol reads them, from the
	// decoder it registered with the reports (reports.RegisterDecoder):
	// set when the transcript is kept for the report, from all the bytes.
	Decoded string
}

// String renders the transcript one event per line, as the console shows
// it for a failed spec.
func (tr Transcript) String() string {
	var b strings.Builder
	for _, e := range tr.Events {
		if e.Wire {
			continue
		}
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func (e Event) String() string {
	at := fmt.Sprintf("%9.3fms", float64(e.At.Microseconds())/1000)
	switch e.Dir {
	case dirSend, dirRecv:
		return fmt.Sprintf("%s %s %s%s %s (%d bytes)", at, e.Conn, e.Dir, e.tlsMark(), Excerpt(e.Data, ExcerptLen), e.Len)
	default:
		return fmt.Sprintf("%s %s %s %s", at, e.Conn, e.Dir, string(e.Data))
	}
}

// tlsMark is how a transcript marks application bytes carried in TLS.
func (e Event) tlsMark() string {
	if e.TLS {
		return " (tls)"
	}
	return ""
}

// Report converts the transcript to the result model's events, leaving
// out the Wire events and marking the TLS ones on their connection's
// name.
func (tr Transcript) Report() []reports.Event {
	out := make([]reports.Event, 0, len(tr.Events))
	for _, e := range tr.Events {
		if e.Wire {
			continue
		}
		re := reports.Event{At: e.At, Conn: e.Conn + e.tlsMark(), Dir: e.Dir, Len: e.Len, Decoded: e.Decoded}
		if e.Dir == dirSend || e.Dir == dirRecv {
			// The model's Data is the escaped bytes without quotes: the
			// reports quote them.
			re.Data = reports.EscapeBytes(e.Data[:min(len(e.Data), ExcerptLen)])
			re.Truncated = len(e.Data) > ExcerptLen || len(e.Data) < e.Len
		} else {
			re.Data = string(e.Data)
		}
		out = append(out, re)
	}
	return out
}

// maxRunTranscripts bounds the transcript bytes the specs of one process
// keep for the reports, all specs together: past it, a spec keeps only
// its first and last runTail events, so that a run's memory stays bounded
// whatever the target sends.
const maxRunTranscripts = 48 << 20

// runTail is how many events at each end a spec keeps once the run's
// transcripts have reached maxRunTranscripts.
const runTail = 20

// runTranscripts counts the bytes kept so far by excerpts.
var runTranscripts atomic.Int64

// excerpts is the transcript as the reports keep it: each event's bytes
// cut to what Report shows (Len keeps the real length), without the Wire
// events and the key log, which only captures need; each send and
// receive decoded first, from all its bytes, by protocol's decoder when
// it registered one. Once the run's transcripts hold maxRunTranscripts
// bytes, the middle events are left out with a note saying so.
func (tr Transcript) excerpts(protocol string) Transcript {
	out := Transcript{Events: make([]Event, 0, len(tr.Events))}
	size := 0
	for _, e := range tr.Events {
		if e.Wire {
			continue
		}
		if (e.Dir == dirSend || e.Dir == dirRecv) && len(e.Data) == e.Len {
			if text, ok := reports.Decode(protocol, e.Data); ok {
				e.Decoded = text
				size += len(text)
			}
		}
		if len(e.Data) > ExcerptLen+1 {
			e.Data = append([]byte(nil), e.Data[:ExcerptLen+1]...)
		}
		size += len(e.Data) + len(e.Conn) + 64
		out.Events = append(out.Events, e)
	}
	if runTranscripts.Load()+int64(size) > maxRunTranscripts && len(out.Events) > 2*runTail+1 {
		left := len(out.Events) - 2*runTail
		note := Event{At: out.Events[runTail].At, Dir: dirNote, Data: []byte(fmt.Sprintf("… %d events left out: the run's transcripts reached %d MiB …", left, maxRunTranscripts>>20))}
		kept := append(append(out.Events[:runTail:runTail], note), out.Events[len(out.Events)-runTail:]...)
		out.Events = kept
		size = 0
		for _, e := range kept {
			size += len(e.Data) + len(e.Conn) + len(e.Decoded) + 64
		}
	}
	runTranscripts.Add(int64(size))
	return out
}

type event struct {
	conn          string
	local, remote string
	dir           string
	data          []byte
	n             int // real length when data was cut
	tls, wire     bool
}

type recorder struct {
	mu      sync.Mutex
	start   time.Time
	events  []Event
	stored  int
	keyLog  []byte
	dropped int // events left out of the middle (see maxEvents)
}

// maxKeyLog bounds the key log a transcript keeps: a few hundred bytes
// per TLS session.
const maxKeyLog = 64 << 10

// Write appends NSS key log lines (it is the TLS KeyLogWriter of the
// spec's connections), up to maxKeyLog bytes.
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.keyLog)+len(p) <= maxKeyLog {
		r.keyLog = append(r.keyLog, p...)
	}
	return len(p), nil
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(e.data)
	if e.n > n {
		n = e.n
	}
	data := e.data
	if room := maxStored - r.stored; len(data) > room {
		data = data[:max(room, 0)]
	}
	r.stored += len(data)
	ev := Event{At: time.Since(r.start), Conn: e.conn, Dir: e.dir, Len: n, Data: append([]byte(nil), data...), Local: e.local, Remote: e.remote, TLS: e.tls, Wire: e.wire}
	// Consecutive reads on one connection merge into one event, so a
	// reply that arrived in several segments (or TLS records) reads as
	// one; on a TLS connection the application bytes and the records
	// interleave, and each merges with its own kind.
	k := len(r.events) - 1
	for k >= 0 && e.dir == dirRecv && r.events[k].Dir == dirRecv && r.events[k].Conn == e.conn && r.events[k].Wire != e.wire {
		k--
	}
	if k >= 0 && e.dir == dirRecv && r.events[k].Dir == dirRecv && r.events[k].Conn == e.conn && r.events[k].TLS == e.tls && r.events[k].Wire == e.wire && r.events[k].Len < 64<<10 {
		r.events[k].Data = append(r.events[k].Data, ev.Data...)
		r.events[k].Len += ev.Len
		return
	}
	if len(r.events) >= maxEvents {
		r.dropMiddle()
	}
	r.events = append(r.events, ev)
}

// dropMiddle drops a quarter of the events after the first half, keeping
// at the half a note that counts every event dropped so far.
func (r *recorder) dropMiddle() {
	half := maxEvents / 2
	from := half
	if r.dropped > 0 {
		from = half + 1 // after the note
	}
	n := maxEvents / 4
	r.dropped += n
	rest := append(r.events[:from:from], r.events[from+n:]...)
	note := Event{At: rest[half-1].At, Dir: dirNote, Data: []byte(fmt.Sprintf("… %d events left out (a spec keeps at most %d) …", r.dropped, maxEvents))}
	if r.dropped > n {
		rest[half] = note
	} else {
		rest = append(rest[:half], append([]Event{note}, rest[half:]...)...)
	}
	r.events = rest
}

func (r *recorder) transcript() Transcript {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Transcript{Events: append([]Event(nil), r.events...), KeyLog: append([]byte(nil), r.keyLog...)}
}

// lastSends describes the last n things sent, for failure messages.
func (r *recorder) lastSends(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for i := len(r.events) - 1; i >= 0 && len(lines) < n; i-- {
		e := r.events[i]
		if e.Dir == dirSend && !e.Wire {
			lines = append(lines, fmt.Sprintf("  sent on %s: %s (%d bytes)", e.Conn, Excerpt(e.Data, 120), e.Len))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	return strings.Join(lines, "\n")
}

// Excerpt renders bytes as a Go string literal, cut after max bytes with
// the number of bytes left out.
func Excerpt(b []byte, max int) string {
	s := quoteBytes(b, max)
	if len(b) > max {
		s += fmt.Sprintf("…(+%d bytes)", len(b)-max)
	}
	return s
}

func quoteBytes(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	return strconv.Quote(string(b))
}
