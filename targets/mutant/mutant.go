// Package mutant puts a byte-rewriting proxy in front of a protocol's
// reference implementation, so that the reference turns into a known-broken
// server: a mutant. Each protocol declares its mutants from its own rooms
// (suites/<p>/mutants.go), each naming the specs its suite must fail against
// it; the meta-tests in cmd/protospec run the suite once per mutant and check
// that those specs fail, and that the mutant "none" (the proxy with no
// mutation) passes what the reference passes. The package knows no protocol:
// mutations are functions over the bytes of one connection or datagram.
//
// Users reach the mutants as targets:
//
//	protospec run http1 --target mutant:drop-content-length
//	protospec run dns --target mutant:none
//
// README.md lists every mutant, what it does and the specs that kill it.
package mutant

import (
	"bufio"
	"fmt"
	"sort"

	"github.com/protospec/protospec/internal/protocol"
)

// None is the mutant every protocol has: the proxy forwarding every byte
// unchanged, which proves the proxy transparent.
const None = "none"

// Mutant is one deliberate defect of a protocol's reference.
type Mutant struct {
	// Name is what follows "mutant:" in --target.
	Name string
	// Doc says in one line what the mutation does to the wire.
	Doc string
	// Kills lists the IDs of the specs (1 to 3) that must fail against
	// the mutant.
	Kills []string
	// Filter, if set, is a Ginkgo label filter selecting a subset of the
	// suite that contains Kills, for meta-tests that cannot afford the
	// whole suite against this mutant.
	Filter string
	// Stream, if set, returns the mutation of one TCP connection to
	// service ("http/tcp"): one Stream per direction, nil for a direction
	// passed unchanged. The two Streams run in two goroutines; state they
	// share must be synchronised.
	Stream func(service string) (toClient, toServer Stream)
	// Datagram, if set, returns the mutation of the UDP datagrams of
	// service; nil passes them unchanged.
	Datagram func(service string) *Datagram
	// Params, if set, are added to the reference's start options: a
	// defect in what the reference does behind its services (a
	// resolver's upstream queries) that no proxy in front can make.
	Params map[string]string
}

// Stream rewrites one direction of one TCP connection. Next is called with
// the bytes as they are read, in order (at most the proxy's read size at a
// time), and returns the bytes to forward now; it may hold bytes back and
// forward them later. At the end of the direction Next is called once more
// with eof true and no data. close true makes the proxy close the whole
// connection after writing out.
type Stream interface {
	Next(p []byte, eof bool) (out []byte, close bool)
}

// Datagram rewrites UDP datagrams. A nil function passes its direction
// unchanged; a function returning nil drops the datagram.
type Datagram struct {
	ToClient func(p []byte) []byte
	ToServer func(p []byte) []byte
	// OtherPort sends the replies from another socket than the one the
	// client's datagrams went to.
	OtherPort bool
}

// Action is what a Framed rewrite asks besides its bytes.
type Action int

// Actions of a Framed rewrite.
const (
	// Continue goes on framing and rewriting the next message.
	Continue Action = iota
	// PassRest forwards the rest of the direction unchanged.
	PassRest
	// Close closes the connection after writing the message out.
	Close
)

// DefaultFrameLimit is how much a Framed stream buffers while waiting for
// the end of a message before it gives up and passes the rest unchanged.
const DefaultFrameLimit = 1 << 20

// Framed returns a Stream that cuts its direction into messages with split
// (a bufio.SplitFunc: the message is data[:advance], its token is ignored)
// and hands each message, numbered from 0, to rewrite. A message longer
// than limit (0: DefaultFrameLimit), or a split error, makes the stream pass
// the rest unchanged: a mutant that cannot frame is transparent, never
// stuck. Bytes left over at the end of the direction are forwarded as they
// are.
func Framed(split bufio.SplitFunc, limit int, rewrite func(i int, msg []byte) ([]byte, Action)) Stream {
	if limit <= 0 {
		limit = DefaultFrameLimit
	}
	return &framed{split: split, limit: limit, rewrite: rewrite}
}

type framed struct {
	split   bufio.SplitFunc
	limit   int
	rewrite func(int, []byte) ([]byte, Action)
	buf     []byte
	n       int
	passing bool
}

func (f *framed) Next(p []byte, eof bool) ([]byte, bool) {
	if f.passing {
		return p, false
	}
	f.buf = append(f.buf, p...)
	var out []byte
	for len(f.buf) > 0 {
		adv, _, err := f.split(f.buf, eof)
		if err != nil || adv < 0 || adv > len(f.buf) {
			f.passing = true
			break
		}
		if adv == 0 {
			if len(f.buf) > f.limit {
				f.passing = true
			}
			break
		}
		msg, act := f.rewrite(f.n, f.buf[:adv])
		f.n++
		out = append(out, msg...)
		f.buf = f.buf[adv:]
		switch act {
		case Close:
			f.buf = nil
			return out, true
		case PassRest:
			f.passing = true
		}
		if f.passing {
			break
		}
	}
	if f.passing || eof {
		out = append(out, f.buf...)
		f.buf = nil
	} else if len(f.buf) == 0 {
		f.buf = nil
	} else {
		f.buf = append([]byte(nil), f.buf...)
	}
	return out, false
}

// StreamFunc makes a Stream of a function.
type StreamFunc func(p []byte, eof bool) ([]byte, bool)

// Next implements Stream.
func (f StreamFunc) Next(p []byte, eof bool) ([]byte, bool) { return f(p, eof) }

// set is the mutants of one protocol, complete once registered.
type set map[string]Mutant

var sets = protocol.NewRegistry[set]("mutant set")

// Register adds a protocol's mutants, from an init function of one of its
// rooms; the mutant None is added for every protocol. Registering a
// protocol twice, or a mutant without a name, without Kills or named None,
// is a programming error and panics.
func Register(proto string, ms ...Mutant) {
	s := set{None: {Name: None, Doc: "forwards every byte unchanged: the proxy is transparent"}}
	for _, m := range ms {
		if m.Name == "" || m.Name == None || len(m.Kills) == 0 || (m.Stream == nil && m.Datagram == nil && len(m.Params) == 0) {
			panic(fmt.Sprintf("mutant: %s mutant %q needs a name other than %q, Kills and a mutation", proto, m.Name, None))
		}
		if _, dup := s[m.Name]; dup {
			panic(fmt.Sprintf("mutant: %s mutant %q registered twice", proto, m.Name))
		}
		s[m.Name] = m
	}
	sets.Register(proto, s)
}

// Protocols lists the protocols that have mutants.
func Protocols() []string { return sets.Names() }

// Lookup returns a protocol's mutant.
func Lookup(proto, name string) (Mutant, bool) {
	s, _ := sets.Lookup(proto)
	m, ok := s[name]
	return m, ok
}

// Mutants returns a protocol's mutants in name order, None first.
func Mutants(proto string) []Mutant {
	s, _ := sets.Lookup(proto)
	out := make([]Mutant, 0, len(s))
	for _, m := range s {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == None) != (out[j].Name == None) {
			return out[i].Name == None
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ServerStreams returns a Mutant.Stream that applies a fresh Stream from
// newStream to what the server sends on each connection to one of services
// (every service when none is named), and leaves the rest unchanged.
func ServerStreams(newStream func() Stream, services ...string) func(service string) (toClient, toServer Stream) {
	return func(service string) (Stream, Stream) {
		if named(service, services) {
			return newStream(), nil
		}
		return nil, nil
	}
}

// Answers returns a Mutant.Datagram that applies f to the answers of
// services (every service when none is named).
func Answers(f func(p []byte) []byte, services ...string) func(service string) *Datagram {
	return func(service string) *Datagram {
		if named(service, services) {
			return &Datagram{ToClient: f}
		}
		return nil
	}
}

func named(service string, services []string) bool {
	if len(services) == 0 {
		return true
	}
	for _, s := range services {
		if s == service {
			return true
		}
	}
	return false
}
