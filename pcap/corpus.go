package pcap

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// CorpusEntry renders data as a file of Go's native fuzzing corpus for a
// fuzz target taking one []byte.
func CorpusEntry(data []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n")
}

// CorpusInput is what of a message a fuzz target is fed: the message as
// its protocol's CorpusInput makes it (DNS leaves out the TCP length
// prefix), or else its wire bytes.
func CorpusInput(m *Message) []byte {
	if p, ok := Lookup(m.Proto); ok && p.CorpusInput != nil {
		return p.CorpusInput(m)
	}
	return m.Raw
}

// CorpusWriter writes messages into a corpus directory, one file each,
// named by a hash of the content so that the same message is written once.
type CorpusWriter struct {
	Dir string
	// Written and Duplicates count files made and messages already there.
	Written, Duplicates, Skipped int
}

// Add writes m unless it is empty or was not captured whole.
func (c *CorpusWriter) Add(m *Message) error {
	data := CorpusInput(m)
	if len(data) == 0 || m.Truncated || m.Incomplete {
		c.Skipped++
		return nil
	}
	sum := sha256.Sum256(data)
	path := filepath.Join(c.Dir, fmt.Sprintf("%x", sum)[:16])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		c.Duplicates++
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(CorpusEntry(data)); err != nil {
		f.Close()
		return err
	}
	c.Written++
	return f.Close()
}
