package pcap

import (
	"io"
	"slices"
	"sort"

	"github.com/protospec/protospec/internal/protocol"
)

// Protocol is what a protocol's room (pcap/<p>) registers with the engine,
// which knows no protocol itself: how to recognise its flows, dissect them,
// judge them offline, replay them and feed them to fuzzers.
type Protocol struct {
	// Name is the protocol's contract name (internal/<p>.Name).
	Name string
	// Title says in a few words what the dissector makes of a flow.
	Title string
	// Ports are the well-known server ports dissected as the protocol
	// without sniffing (see ContractPorts).
	Ports []uint16
	// SniffOrder orders the sniffers, lowest first (ties by name): a
	// sniffer that can be wrong about others' traffic goes late.
	SniffOrder int
	// Sniff, if set, guesses from a flow's first payload whether the flow
	// carries the protocol: b is the first payload of side; client, when
	// side is Server, holds what the client sent before (at most 4 KiB).
	Sniff func(side Side, udp bool, b, client []byte) bool
	// NotPorts are ports of other protocols that share this one's wire
	// format (a multicast or link-local variant, say): a flow on one of
	// them is never sniffed as this protocol, since its rules differ.
	NotPorts []uint16
	// New returns the dissector of one flow, or nil when the protocol
	// does not run over the flow's transport.
	New func(e *Emitter, udp bool) Dissector
	// Rules are the protocol's offline checks (pcap check).
	Rules []Rule
	// Replay, if set, says how the protocol's flows are replayed.
	Replay *Replayer
	// CorpusInput, if set, is what of a message a fuzz target is fed
	// (default: Message.Raw).
	CorpusInput func(m *Message) []byte
	// CapturePort, if set, is the server port a spec's capture shows, by
	// spec ID (0: the real one), so that tshark decodes the conversation
	// as the protocol; default: the first of Ports.
	CapturePort func(specID string) uint16
	// Synth, if set, writes a synthetic capture of n flows of the
	// protocol: a load for benchmarks and a sample for tries.
	Synth func(w io.Writer, n int) error
}

var protocols = protocol.NewRegistry[Protocol]("pcap dissector")

// Register adds a protocol's dissector; each pcap/<p> calls it from init.
func Register(p Protocol) {
	if p.Name == "" || p.New == nil {
		panic("pcap: Register needs a Name and New")
	}
	protocols.Register(p.Name, p)
}

// Lookup returns the registered dissector of a protocol.
func Lookup(name string) (Protocol, bool) { return protocols.Lookup(name) }

// Protocols lists the protocols with a registered dissector, in order:
// what --decode-as and --proto accept.
func Protocols() []string { return protocols.Names() }

// SynthProtocols lists the protocols that synthesize captures.
func SynthProtocols() []string {
	var out []string
	for _, p := range all() {
		if p.Synth != nil {
			out = append(out, p.Name)
		}
	}
	return out
}

// RuleProtocols lists the protocols that have offline checks.
func RuleProtocols() []string {
	var out []string
	for _, p := range all() {
		if len(p.Rules) > 0 {
			out = append(out, p.Name)
		}
	}
	return out
}

// all returns the registered protocols in name order.
func all() []Protocol {
	names := protocols.Names()
	out := make([]Protocol, 0, len(names))
	for _, n := range names {
		p, _ := protocols.Lookup(n)
		out = append(out, p)
	}
	return out
}

// DefaultPorts maps the registered protocols' well-known server ports to
// the protocols (the first by name when two claim a port).
func DefaultPorts() map[uint16]string {
	out := map[uint16]string{}
	for _, p := range all() {
		for _, port := range p.Ports {
			if _, taken := out[port]; !taken && port != 0 {
				out[port] = p.Name
			}
		}
	}
	return out
}

// ContractPorts returns the well-known ports of a contract's services
// named (all services when none is), each once, in order.
func ContractPorts(c protocol.Contract, services ...string) []uint16 {
	var out []uint16
	seen := map[uint16]bool{}
	for _, s := range c.Services {
		if s.Port == 0 || seen[s.Port] {
			continue
		}
		if len(services) > 0 && !contains(services, s.Name) {
			continue
		}
		seen[s.Port] = true
		out = append(out, s.Port)
	}
	return out
}

// CapturePort is the server port a spec's capture shows: the one the
// spec's protocol (the first part of its ID) asks for, 0 for none.
func CapturePort(specID string) uint16 {
	name := specID
	for i := range specID {
		if specID[i] == '/' {
			name = specID[:i]
			break
		}
	}
	p, ok := Lookup(name)
	switch {
	case !ok:
		return 0
	case p.CapturePort != nil:
		return p.CapturePort(specID)
	case len(p.Ports) > 0:
		return p.Ports[0]
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// engine is the analyzer's view of the registered protocols, taken when
// Analyze starts.
type engine struct {
	ports    map[uint16]string
	byName   map[string]*protoState
	sniffers []*protoState
}

// protoState is one protocol during an analysis, with the dissectors of
// ended flows kept for reuse.
type protoState struct {
	p     Protocol
	spare []Reusable
}

func newEngine() *engine {
	e := &engine{ports: DefaultPorts(), byName: map[string]*protoState{}}
	for _, p := range all() {
		ps := &protoState{p: p}
		e.byName[p.Name] = ps
		if p.Sniff != nil {
			e.sniffers = append(e.sniffers, ps)
		}
	}
	sort.SliceStable(e.sniffers, func(i, j int) bool { return e.sniffers[i].p.SniffOrder < e.sniffers[j].p.SniffOrder })
	return e
}

// sniff guesses the protocol of a flow from the first payload of one side.
func (e *engine) sniff(f *Flow, side Side, b, client []byte) string {
	for _, ps := range e.sniffers {
		if len(ps.p.NotPorts) > 0 && (slices.Contains(ps.p.NotPorts, f.Client.Port()) || slices.Contains(ps.p.NotPorts, f.Server.Port())) {
			continue
		}
		if ps.p.Sniff(side, f.udp, b, client) {
			return ps.p.Name
		}
	}
	return ""
}
