package echo

import (
	"bufio"
	"bytes"

	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/targets/mutant"
)

// The echo family's mutants: the reference behind a proxy that breaks one
// rule, each killed by the specs it names (targets/mutant/README.md).
func init() {
	mutant.Register(contract.Name,
		mutant.Mutant{
			Name:     "lowercase-one-byte",
			Doc:      "uppercase: the first capital letter of every reply (each TCP read, each datagram) is lowercased",
			Kills:    []string{"echo/uppercase/tcp/uppercases-line", "echo/uppercase/tcp/replies-have-no-lowercase", "echo/uppercase/udp/uppercases-datagram"},
			Stream:   mutant.ServerStreams(func() mutant.Stream { return mutant.StreamFunc(lowerFirstCapital) }, "uppercase/tcp"),
			Datagram: mutant.Answers(func(p []byte) []byte { out, _ := lowerFirstCapital(p, false); return out }, "uppercase/udp"),
		},
		mutant.Mutant{
			Name:  "drop-last-byte",
			Doc:   "echo and uppercase: every reply datagram and every TCP reply line loses its last byte",
			Kills: []string{"echo/rfc862/tcp/echoes-line", "echo/rfc862/udp/echoes-datagram", "echo/uppercase/udp/whole-datagram"},
			// A line without its LF leaves the client waiting out its
			// deadline: the uppercase TCP specs are left out.
			Filter: "rfc862 || uppercase:udp",
			Stream: mutant.ServerStreams(func() mutant.Stream {
				return mutant.Framed(bufio.ScanLines, 0, func(_ int, line []byte) ([]byte, mutant.Action) {
					return line[:len(line)-1], mutant.Continue
				})
			}, "echo/tcp", "uppercase/tcp"),
			Datagram: mutant.Answers(func(p []byte) []byte {
				if len(p) == 0 {
					return p
				}
				return p[:len(p)-1]
			}, "echo/udp", "uppercase/udp"),
		},
		mutant.Mutant{
			Name:  "duplicate-line",
			Doc:   "echo and uppercase over TCP: the first reply line of every connection is sent twice",
			Kills: []string{"echo/uppercase/tcp/lines-in-order", "echo/rfc862/tcp/continues-until-close"},
			Stream: mutant.ServerStreams(func() mutant.Stream {
				return mutant.Framed(bufio.ScanLines, 0, func(i int, line []byte) ([]byte, mutant.Action) {
					return append(append([]byte(nil), line...), line...), mutant.PassRest
				})
			}, "echo/tcp", "uppercase/tcp"),
		},
		mutant.Mutant{
			Name:     "udp-other-port",
			Doc:      "every UDP service answers from another port than the one the query went to",
			Kills:    []string{"echo/rfc862/udp/reply-from-service-port", "echo/uppercase/udp/reply-from-service-port"},
			Datagram: func(string) *mutant.Datagram { return &mutant.Datagram{OtherPort: true} },
		},
		mutant.Mutant{
			Name:  "echo-uppercases",
			Doc:   "RFC 862 echo (TCP and UDP) uppercases what it echoes",
			Kills: []string{"echo/rfc862/tcp/preserves-case", "echo/rfc862/udp/echoes-datagram"},
			Stream: mutant.ServerStreams(func() mutant.Stream {
				return mutant.StreamFunc(func(p []byte, _ bool) ([]byte, bool) { return bytes.ToUpper(p), false })
			}, "echo/tcp"),
			Datagram: mutant.Answers(bytes.ToUpper, "echo/udp"),
		},
		mutant.Mutant{
			Name:  "chargen-oversized-datagram",
			Doc:   "RFC 864 chargen over UDP pads every answer to 513 bytes",
			Kills: []string{"echo/rfc864/udp/at-most-512"},
			Datagram: mutant.Answers(func(p []byte) []byte {
				for len(p) < 513 {
					p = append(p, 'x')
				}
				return p
			}, "chargen/udp"),
		},
		mutant.Mutant{
			Name:  "daytime-non-ascii",
			Doc:   "RFC 867 daytime over TCP: the first byte of the date becomes 0xff",
			Kills: []string{"echo/rfc867/tcp/ascii"},
			Stream: mutant.ServerStreams(func() mutant.Stream {
				first := true
				return mutant.StreamFunc(func(p []byte, _ bool) ([]byte, bool) {
					if first && len(p) > 0 {
						first = false
						p[0] = 0xff
					}
					return p, false
				})
			}, "daytime/tcp"),
		},
	)
}

// lowerFirstCapital lowercases the first ASCII capital letter of p.
func lowerFirstCapital(p []byte, _ bool) ([]byte, bool) {
	if i := bytes.IndexFunc(p, func(r rune) bool { return r >= 'A' && r <= 'Z' }); i >= 0 {
		p[i] += 'a' - 'A'
	}
	return p, false
}
