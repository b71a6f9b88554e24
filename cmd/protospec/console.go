package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// noColor is the global --no-color flag.
var noColor bool

// terminal reports whether w is a terminal (a file whose descriptor
// answers the terminal ioctl).
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// colorOn reports whether output to w may carry colour: only on a
// terminal, never with NO_COLOR set (https://no-color.org) or --no-color.
func colorOn(w io.Writer) bool {
	if noColor {
		return false
	}
	if v, ok := os.LookupEnv("NO_COLOR"); ok && v != "" {
		return false
	}
	return terminal(w)
}

// ANSI colours of the console.
const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// paint wraps s in colour when on is set.
func paint(on bool, color, s string) string {
	if !on {
		return s
	}
	return color + s + ansiReset
}

// statusLine is a one-line progress display on a terminal: each Set
// rewrites the line (at most ten times a second), Clear removes it so
// that ordinary lines can follow. On anything but a terminal it prints
// nothing at all.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	last  time.Time
	shown bool
	width int
}

// newStatusLine returns a status line on w, live only when w is a
// terminal and enabled is set.
func newStatusLine(w io.Writer, enabled bool) *statusLine {
	s := &statusLine{w: w, on: enabled && terminal(w), width: 79}
	if f, ok := w.(*os.File); ok && s.on {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 10 {
			s.width = int(ws.Col) - 1
		}
	}
	return s
}

// Set shows text as the status, unless the last one is too recent
// (force shows it anyway).
func (s *statusLine) Set(text string, force bool) {
	if s == nil || !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !force && time.Since(s.last) < 100*time.Millisecond {
		return
	}
	s.last = time.Now()
	if r := []rune(text); len(r) > s.width {
		text = string(r[:s.width])
	}
	fmt.Fprint(s.w, "\r\x1b[K"+text)
	s.shown = true
}

// Clear removes the status line.
func (s *statusLine) Clear() {
	if s == nil || !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.shown = false
	}
}

// Println prints a permanent line above the status line.
func (s *statusLine) Println(line string) {
	if s != nil && s.on {
		s.mu.Lock()
		if s.shown {
			fmt.Fprint(s.w, "\r\x1b[K")
			s.shown = false
		}
		s.mu.Unlock()
	}
	fmt.Fprintln(s.w, line)
}

// bar draws a progress bar of done out of total, width cells wide.
func bar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	n := done * width / total
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

// progressWriter turns the status lines a pillar writes (one per
// interval) into the terminal's one status line; lines that begin with
// none of the status prefixes (findings, reproduce commands) are printed
// as they are. Off a terminal, status lines are dropped only when quiet.
type progressWriter struct {
	line     *statusLine
	w        io.Writer
	prefixes []string
	tty      bool
	buf      []byte
}

// newProgressWriter writes to w; lines starting with one of prefixes are
// status lines.
func newProgressWriter(w io.Writer, prefixes ...string) *progressWriter {
	return &progressWriter{line: newStatusLine(w, true), w: w, prefixes: prefixes, tty: terminal(w)}
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			if len(p.buf) > 64<<10 {
				p.buf = p.buf[:0]
			}
			return len(b), nil
		}
		line := string(p.buf[:i])
		p.buf = p.buf[i+1:]
		status := false
		for _, pre := range p.prefixes {
			if strings.HasPrefix(line, pre) {
				status = true
			}
		}
		switch {
		case status && p.tty:
			p.line.Set(line, true)
		case p.tty:
			p.line.Println(line)
		default:
			fmt.Fprintln(p.w, line)
		}
	}
}

// Close removes the status line.
func (p *progressWriter) Close() { p.line.Clear() }
