package ftp

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

func BenchmarkReadReply(b *testing.B) {
	one := []byte("211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;\r\n SIZE\r\n211 End\r\n")
	stream := bytes.Repeat(one, 64)
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		br := bufio.NewReader(bytes.NewReader(stream))
		for {
			if _, err := ReadReply(br, Limits{}); err != nil {
				break
			}
		}
	}
}

func BenchmarkASCIIWriter(b *testing.B) {
	text := bytes.Repeat([]byte("a line of text of some length\n"), 2048)
	b.SetBytes(int64(len(text)))
	w := NewASCIIWriter(io.Discard)
	for b.Loop() {
		w.Write(text)
	}
}

func BenchmarkASCIIReader(b *testing.B) {
	wire := bytes.Repeat([]byte("a line of text of some length\r\n"), 2048)
	b.SetBytes(int64(len(wire)))
	buf := make([]byte, 32<<10)
	for b.Loop() {
		r := NewASCIIReader(bytes.NewReader(wire))
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
	}
}
