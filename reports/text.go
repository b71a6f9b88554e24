package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is the state a reader sees: the spec's State, or "known" for a
// failure or error (or an unsupported MAY) that the baseline expects.
func (s Spec) Status() string {
	if s.Known && s.Unmet() {
		return StatusKnown
	}
	return s.State
}

// StatusKnown is the Status of a failing spec that the baseline lists.
const StatusKnown = "known"

// String renders the event on one line, as the text reports show it:
//
//	12.345ms tcp#1 send "hello\n" (6 bytes)
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.3fms", float64(e.At)/float64(time.Millisecond))
	if e.Conn != "" {
		b.WriteByte(' ')
		b.WriteString(escapeControl(e.Conn, true))
	}
	b.WriteByte(' ')
	if e.Dir == "" {
		b.WriteString("?")
	} else {
		b.WriteString(escapeControl(e.Dir, true))
	}
	switch e.Dir {
	case DirSend, DirRecv:
		b.WriteString(` "`)
		b.WriteString(escapeControl(eventData(e.Data), true))
		b.WriteByte('"')
		if e.Truncated {
			b.WriteString("...")
		}
		switch {
		case e.Len == 1:
			b.WriteString(" (1 byte")
		default:
			fmt.Fprintf(&b, " (%d bytes", e.Len)
		}
		if e.Truncated {
			b.WriteString(", truncated")
		}
		b.WriteByte(')')
	default:
		if e.Data != "" {
			b.WriteByte(' ')
			b.WriteString(escapeControl(e.Data, true))
		}
		if e.Truncated {
			b.WriteString("...")
		}
	}
	return b.String()
}

// transcriptText renders a transcript one event per line, with the times
// aligned.
func transcriptText(evs []Event) []string {
	lines := make([]string, len(evs))
	width := 0
	for i, e := range evs {
		lines[i] = e.String()
		if n := strings.IndexByte(lines[i], ' '); n > width {
			width = n
		} else if n < 0 && len(lines[i]) > width {
			width = len(lines[i])
		}
	}
	for i, l := range lines {
		n := strings.IndexByte(l, ' ')
		if n < 0 {
			n = len(l)
		}
		if n < width {
			lines[i] = strings.Repeat(" ", width-n) + l
		}
	}
	return lines
}

// transcriptBlock renders a transcript for the text reports (Markdown,
// JUnit): one line per event, each followed by what the protocol's
// decoder made of its bytes, indented under it.
func transcriptBlock(protocol string, evs []Event) []string {
	evs = decodedEvents(protocol, evs)
	var out []string
	for i, l := range transcriptText(evs) {
		out = append(out, l)
		out = append(out, decodedLines(evs[i])...)
	}
	return out
}

// decodedLines is an event's Decoded text, each line indented under the
// event and made safe to show.
func decodedLines(e Event) []string {
	if e.Decoded == "" {
		return nil
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(e.Decoded, "\n"), "\n") {
		// dig aligns its columns with tabs: kept, as any other text
		// is made safe (a line holds no newline after the split).
		out = append(out, strings.TrimRight("      | "+escapeControl(l, false), " "))
	}
	return out
}

// decodedEvents returns evs with Decoded filled in, where the protocol
// has a decoder and the producer did not decode (a copy: the run is not
// changed).
func decodedEvents(protocol string, evs []Event) []Event {
	if protocol == "" || len(evs) == 0 {
		return evs
	}
	out := append([]Event(nil), evs...)
	DecodeEvents(protocol, out)
	return out
}

// specProtocol is the protocol whose decoder reads a spec's transcript.
func specProtocol(r *Run, sp Spec) string {
	if sp.Protocol != "" {
		return sp.Protocol
	}
	return r.Protocol
}

// escapeControl makes s safe to show in any of the reports: invalid UTF-8
// and characters that XML 1.0 forbids become Go-style escapes (\x01,
// \ufffe), and so do \r and, when oneLine is set, \n and \t. Everything
// else, backslashes included, is kept: transcripts arrive already escaped.
func escapeControl(s string, oneLine bool) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !xmlChar(r) || r == '\r' || (oneLine && (r == '\n' || r == '\t')) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n' && oneLine:
			b.WriteString(`\n`)
		case r == '\t' && oneLine:
			b.WriteString(`\t`)
		case !xmlChar(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// maxHeadline bounds the one-line summaries of a message (JUnit message
// attributes, table cells).
const maxHeadline = 200

// headline returns the first non-blank line of s, escaped and cut to
// maxHeadline runes.
func headline(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		l = escapeControl(l, true)
		if utf8.RuneCountInString(l) > maxHeadline {
			rs := []rune(l)
			l = string(rs[:maxHeadline]) + "..."
		}
		return l
	}
	return ""
}

// fmtDuration shows a duration at a precision a reader cares about.
func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDuration(-d)
	case d < time.Microsecond:
		return d.String()
	case d < time.Second:
		return d.Round(time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// seconds renders d as decimal seconds ("0.012"), as JUnit wants.
func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// levelOrder returns the levels of s in reading order: MUST, SHOULD, MAY
// always, then any other level present, sorted.
func levelOrder(s Summary) []string {
	out := []string{LevelMust, LevelShould, LevelMay}
	var extra []string
	for l := range s.ByLevel {
		if l != LevelMust && l != LevelShould && l != LevelMay {
			extra = append(extra, l)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// levelName shows an empty level as "-".
func levelName(l string) string {
	if l == "" {
		return "-"
	}
	return l
}

// sectionName names a section as the reports title it: "rfc862 tcp",
// "rfc9112 9.3 Persistence".
func sectionName(s Section) string {
	if n := sectionID(s); s.Title != "" {
		return n + " " + s.Title
	}
	return sectionID(s)
}

// sectionID is the section's document and number: "rfc9112 9.3".
func sectionID(s Section) string {
	doc, sec := s.Doc, s.Section
	switch {
	case doc == "" && sec == "":
		return "(none)"
	case doc == "":
		return sec
	case sec == "":
		return doc
	}
	return doc + " " + sec
}
