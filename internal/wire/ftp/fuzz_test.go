package ftp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"220 ready\r\n", "211-a\r\n b\r\n211 c\r\n", "123-x\r\n123 y\n", "220\r\n", "2", "220-\r\n220-\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		total := 0
		for i := 0; i < 100; i++ {
			rep, err := ReadReply(br, Limits{MaxLine: 256, MaxLines: 32})
			total += len(rep.Raw)
			if total > len(data) {
				t.Fatalf("read %d raw bytes of %d", total, len(data))
			}
			if err == nil && (rep.Code < 100 || rep.Code > 599 || len(rep.Lines) == 0) {
				t.Fatalf("accepted %+v", rep)
			}
			if err == nil {
				// A clean reply survives FormatReply.
				again, err2 := ReadReply(bufio.NewReader(bytes.NewReader(FormatReply(rep.Code, rep.Lines...))), Limits{MaxLine: 1 << 20})
				if err2 == nil && again.Code != rep.Code {
					t.Fatalf("reformatted %d as %d", rep.Code, again.Code)
				}
			}
			var pe *ProblemError
			if err != nil && (!errors.As(err, &pe) || pe.Fatal) {
				return
			}
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"USER bob\r\n", "noop\r\n", "CWD \r\n", "EPRT |2|::1|21|\r\n", "PORT 127,0,0,1,4,1\r\n", "\xff\xf4ABOR\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseCommand(line)
		if err == nil {
			back, err2 := ParseCommand([]byte(c.String()))
			if err2 != nil || back != c {
				t.Fatalf("%q parsed as %+v, its String %q as %+v %v", line, c, c.String(), back, err2)
			}
		}
		// The argument parsers never panic on any argument.
		ParseHostPort(c.Arg)
		ParseEPRT(c.Arg)
		ParsePASV(c.Arg)
		ParseEPSV(c.Arg)
	})
}

func FuzzASCIIRoundTrip(f *testing.F) {
	for _, s := range []string{"a\nb\n", "a\r\nb", "\r", "\r\r\n\n", ""} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, local []byte, cut uint8) {
		step := int(cut%17) + 1
		var wire bytes.Buffer
		w := NewASCIIWriter(&wire)
		for i := 0; i < len(local); i += step {
			w.Write(local[i:min(i+step, len(local))])
		}
		w.Close()
		if bytes.Contains(bytes.ReplaceAll(wire.Bytes(), []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("%q: a bare LF on the wire: %q", local, wire.Bytes())
		}
		var r io.Reader = NewASCIIReader(iotest.HalfReader(bytes.NewReader(wire.Bytes())))
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.ReplaceAll(local, []byte("\r\n"), []byte("\n")); !bytes.Equal(got, want) {
			t.Fatalf("%q: round trip %q, want %q", local, got, want)
		}
	})
}
