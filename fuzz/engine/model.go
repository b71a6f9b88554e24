package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/protospec/protospec/internal/protocol"
)

// Model is what the engine knows of one protocol: how to reach its states
// (the seeds), how to mutate a message without losing its shape, how to
// tell how many answers a message deserves, how to frame and judge the
// answers, and a request that a live server must always answer.
type Model interface {
	// Name is the protocol's name, the contract's Name constant it is
	// registered under.
	Name() string
	// Services lists the target services the steps use, the probe's first.
	Services() []string
	// Seeds are the built-in inputs, one per state worth reaching.
	Seeds() []Input
	// Probe is the liveness check: a valid input every step of which must
	// get a valid answer within the deadline.
	Probe() Input
	// NewSession returns the protocol state of one new connection or
	// socket to service.
	NewSession(service string) Session
	// Mutate changes step i of in, in place, with one grammar-aware
	// mutation, and returns the mutation's name; "" when none applied.
	Mutate(r *rand.Rand, in *Input, i int) string
	// Render returns the bytes to send for a step, with the values
	// extracted from earlier answers (vars) filled in.
	Render(st Step, vars map[string]string) []byte
	// SeedStep turns a raw message read from a seed file into a step.
	SeedStep(data []byte) Step
}

// Session is the protocol state of one connection (or UDP socket): what was
// asked on it, so answers can be framed, matched and judged.
type Session interface {
	// Sent records bytes sent and returns how many answers a server that
	// accepts them owes, and whether that count is certain (the bytes
	// are plainly valid); uncertain counts never raise the slow oracle.
	Sent(data []byte) (expect int, sure bool)
	// Parse takes the complete answers at the start of buf and returns
	// them with the number of bytes they used. closed reports that the
	// peer closed the stream (or, for UDP, that buf is one whole
	// datagram). An error is a violation of the protocol's grammar.
	Parse(buf []byte, closed bool) (resps []Response, used int, err error)
}

// Response is one answer as the oracles and the differential comparison
// see it.
type Response struct {
	// Class is the coarse outcome compared between targets: an HTTP
	// status class ("2xx"), a DNS RCODE ("NOERROR").
	Class string
	// Detail is the finer outcome: the HTTP status code, the DNS answer
	// set. Differential mode compares it when the model says so
	// (CompareDetail).
	Detail string
	// Vars are values extracted for later steps ("sid", "id").
	Vars map[string]string
}

// DetailComparer is implemented by models whose Response.Detail must agree
// between targets (DNS answer sets); HTTP details (status codes) differ
// legitimately and are only shown.
type DetailComparer interface {
	CompareDetail() bool
}

// models holds the registered models, keyed by protocol name.
var models = protocol.NewRegistry[func() Model]("fuzzing model")

// Register makes a protocol's model known to the engine under name, the
// Name constant of the protocol's contract (internal/<p>). Each fuzz/<p>
// package calls it from its init:
//
//	func init() { engine.Register(contract.Name, func() engine.Model { return model{} }) }
//
// A model whose Name is not name, or a name registered twice, is a
// programming error and panics.
func Register(name string, newModel func() Model) {
	if got := newModel().Name(); got != name {
		panic(fmt.Sprintf("engine: model registered as %q names itself %q", name, got))
	}
	models.Register(name, newModel)
}

// LookupModel returns a new model of protocol name.
func LookupModel(name string) (Model, error) {
	f, ok := models.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("engine: no fuzzing model for %q (known: %s)", name, strings.Join(ModelNames(), ", "))
	}
	return f(), nil
}

// ModelNames lists the protocols that have a model, in order.
func ModelNames() []string { return models.Names() }

// CheckModel exercises a model the way a native fuzz target of fuzz/<p>
// does: sent goes to a new session of every service of the model as what
// was sent, got as what came back (in a stream that stays open, then one
// that closed), and eight mutations of sent are rendered. It returns an
// error when a session owes a negative number of answers or Parse claims
// more bytes than it was given; a panic is left to the fuzzer to report.
func CheckModel(m Model, sent, got []byte, seed uint64) error {
	for _, svc := range m.Services() {
		s := m.NewSession(svc)
		if n, _ := s.Sent(sent); n < 0 {
			return fmt.Errorf("%s %s: Sent returned %d", m.Name(), svc, n)
		}
		for _, closed := range []bool{false, true} {
			if _, used, _ := s.Parse(got, closed); used < 0 || used > len(got) {
				return fmt.Errorf("%s %s: Parse used %d of %d bytes (closed %v)", m.Name(), svc, used, len(got), closed)
			}
		}
		in := Input{Steps: []Step{{Service: svc, Data: bytes.Clone(sent)}}}
		r := rand.New(rand.NewPCG(seed, 1))
		for k := 0; k < 8; k++ {
			m.Mutate(r, &in, r.IntN(len(in.Steps)))
		}
		for _, st := range in.Steps {
			_ = m.Render(st, map[string]string{"id": "7", "sid": "x"})
		}
	}
	return nil
}

// RenderTemplate fills the "{{name}}" placeholders of a text protocol's
// step with vars (the values Response.Vars extracted from earlier answers);
// an unknown name becomes empty. Text models use it as their Render.
func RenderTemplate(data []byte, vars map[string]string) []byte {
	if !bytes.Contains(data, []byte("{{")) {
		return data
	}
	var out []byte
	rest := data
	for {
		i := bytes.Index(rest, []byte("{{"))
		if i < 0 {
			break
		}
		j := bytes.Index(rest[i:], []byte("}}"))
		if j < 0 {
			break
		}
		name := string(rest[i+2 : i+j])
		if len(name) > 32 || strings.ContainsAny(name, " \r\n{") {
			out = append(out, rest[:i+2]...)
			rest = rest[i+2:]
			continue
		}
		out = append(out, rest[:i]...)
		out = append(out, vars[name]...)
		rest = rest[i+j+2:]
	}
	return append(out, rest...)
}
