package echofuzz

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/echo"
)

func init() { engine.Register(contract.Name, func() engine.Model { return echoModel{} }) }

// echoModel fuzzes the RFC 862 echo service over TCP: every byte sent
// must come back, unchanged and in order, and nothing else.
type echoModel struct{}

const echoService = "echo/tcp"

func (echoModel) Name() string       { return contract.Name }
func (echoModel) Services() []string { return []string{echoService} }

func (echoModel) Seeds() []engine.Input {
	st := func(conn int, s string, half bool) engine.Step {
		return engine.Step{Service: echoService, Conn: conn, Data: []byte(s), HalfClose: half}
	}
	return []engine.Input{
		{Steps: []engine.Step{st(0, "hello\r\n", false)}},
		{Steps: []engine.Step{st(0, "first line\n", false), st(0, "second line\n", false)}},
		{Steps: []engine.Step{st(0, "no newline", false), st(0, " then the rest\r\n", true)}},
		{Steps: []engine.Step{st(0, "\x00\x01\xff\xfe binary\n", false)}},
		{Steps: []engine.Step{st(0, "a\n", false), st(1, "b\n", false)}},
	}
}

func (echoModel) Probe() engine.Input {
	return engine.Input{Steps: []engine.Step{{Service: echoService, Data: []byte("protospec liveness probe\r\n")}}}
}

func (echoModel) NewSession(string) engine.Session { return &echoSession{} }

func (echoModel) Render(st engine.Step, _ map[string]string) []byte { return st.Data }

func (echoModel) SeedStep(data []byte) engine.Step {
	return engine.Step{Service: echoService, Data: data}
}

var echoMutations = []string{"line-length", "bytes", "split", "line-ending", "empty"}

func (echoModel) Mutate(r *rand.Rand, in *engine.Input, i int) string {
	st := &in.Steps[i]
	b := st.Data
	name := echoMutations[r.IntN(len(echoMutations))]
	switch name {
	case "line-length":
		n := []int{0, 1, 63, 64, 65, 511, 512, 1023, 1024, 4096, 8192, 65535, 65536, 100000}[r.IntN(14)]
		st.Data = append(bytes.Repeat([]byte{byte('a' + r.IntN(26))}, n), '\n')
	case "bytes":
		if len(b) == 0 {
			return ""
		}
		b = bytes.Clone(b)
		for k := 1 + r.IntN(4); k > 0; k-- {
			b[r.IntN(len(b))] = []byte{0, '\r', '\n', 0x7f, 0x80, 0xff, 0xc3, 'z'}[r.IntN(8)]
		}
		st.Data = b
	case "split":
		if len(b) < 2 || len(in.Steps) >= 16 {
			return ""
		}
		k := 1 + r.IntN(len(b)-1)
		rest := *st
		rest.Data = bytes.Clone(b[k:])
		rest.HalfClose = st.HalfClose
		st.Data = bytes.Clone(b[:k])
		st.HalfClose = false
		in.Steps = append(in.Steps[:i+1], append([]engine.Step{rest}, in.Steps[i+1:]...)...)
	case "line-ending":
		b = bytes.TrimRight(b, "\r\n")
		st.Data = append(bytes.Clone(b), []string{"\n", "\r\n", "\r", "\n\r", "", "\r\r\n"}[r.IntN(6)]...)
	case "empty":
		st.Data = nil
		st.HalfClose = true
	}
	return name
}

// echoSession checks that the bytes coming back are the bytes sent.
type echoSession struct {
	sent  []byte // sent and not yet echoed
	parts []int  // lengths of the messages not yet fully echoed
}

func (s *echoSession) Sent(data []byte) (int, bool) {
	if len(data) == 0 {
		return 0, true
	}
	s.sent = append(s.sent, data...)
	s.parts = append(s.parts, len(data))
	return 1, true
}

func (s *echoSession) Parse(buf []byte, closed bool) ([]engine.Response, int, error) {
	n := min(len(buf), len(s.sent))
	if !bytes.Equal(buf[:n], s.sent[:n]) {
		k := 0
		for k < n && buf[k] == s.sent[k] {
			k++
		}
		return nil, 0, fmt.Errorf("echo changed byte %d: sent %q, got back %q", k, engine.Excerpt(s.sent[k:min(n, k+32)], 64), engine.Excerpt(buf[k:min(n, k+32)], 64))
	}
	if len(buf) > len(s.sent) {
		return nil, 0, fmt.Errorf("echo sent %d bytes nobody sent: %q", len(buf)-len(s.sent), engine.Excerpt(buf[len(s.sent):], 64))
	}
	var resps []engine.Response
	used := 0
	for len(s.parts) > 0 && s.parts[0] <= n-used {
		used += s.parts[0]
		s.parts = s.parts[1:]
		resps = append(resps, engine.Response{Class: "echo"})
	}
	s.sent = s.sent[used:]
	return resps, used, nil
}
