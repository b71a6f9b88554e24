// Package stress is protospec's protocol-free hostile-client engine
// (`protospec stress`): attacks that one client can mount against a
// server (connection floods, slowloris, slow readers, pipelining floods,
// memory pressure, trickling connections, UDP amplification), each run for
// a bounded time and connection count while a legitimate client probes the
// target, and judged by whether that client was still served. Each
// protocol registers its battery from its hostile-client room
// (fuzz/<p>/stress.go), built from the generic attacks here and fed the
// protocol's own request bytes.
//
//	run, err := stress.Run(ctx, stress.Options{Protocol: "http1", Target: t, Duration: 5 * time.Second})
//	if err != nil { ... }            // the target could not be judged at all
//	reports.WriteAll("stress-report", run) // one spec per attack, with its figures
package stress

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
)

// Figures are what an attack measured, by name: "connections_opened",
// "bytes_sent", "amplification". Names carry their unit where they have
// one ("_bytes", "_ms").
type Figures map[string]float64

// Budget bounds one attack. The driver sets every field; an attack never
// goes beyond any of them and returns when ctx is done.
type Budget struct {
	// Duration is how long the attack lasts; ctx ends with it.
	Duration time.Duration
	// Conns is the most connections (or sockets) the attack holds at once.
	Conns int
	// Bytes is the most bytes the attack sends in total.
	Bytes int64
	// Step is the deadline of one network step (a dial, a write).
	Step time.Duration
	// Dialer is the one dialer every connection goes through.
	Dialer *dial.Dialer
}

// Attack is one hostile client's behaviour against one service.
type Attack interface {
	// Name is the attack's name on the command line and its spec ID's
	// last part: "slowloris".
	Name() string
	// Doc says in a sentence what the attack does.
	Doc() string
	// Service is the target service it hits ("http/tcp").
	Service() string
	// Run mounts the attack on ep within b and returns what it measured.
	// It returns when ctx is done at the latest; an error means the
	// attack could not be mounted at all (not that the server suffered).
	Run(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error)
}

// Judged is implemented by an attack whose own figures can fail it
// (an amplification factor over a bound), beside the legitimate client's
// verdict that every attack gets.
type Judged interface {
	Judge(f Figures) error
}

// Probed is implemented by an attack whose legitimate client talks to
// another service than the one attacked (a TCP lockout is judged by a TCP
// client; a flood of a resolver by the resolver answering a cached name).
type Probed interface {
	ProbeService() string
}

// Battery is what a protocol registers: its attacks and its legitimate
// client.
type Battery struct {
	Attacks []Attack
	// Probe makes one valid exchange with service at addr within ctx's
	// deadline; nil means the protocol contract's Probe.
	Probe func(ctx context.Context, service, addr string) error
	// Examples are `protospec stress <protocol>` argument lists shown in
	// the command's help ("--target nginx --attack slowloris").
	Examples []string
}

var batteries = protocol.NewRegistry[Battery]("stress battery")

// Register makes a protocol's battery known under name, the Name of its
// contract. Attacks with one name twice, or a name registered twice, are
// programming errors and panic.
func Register(name string, b Battery) {
	seen := map[string]bool{}
	for _, a := range b.Attacks {
		if seen[a.Name()] || a.Name() == "" || a.Service() == "" {
			panic(fmt.Sprintf("stress: %s: attack %q twice, or without name or service", name, a.Name()))
		}
		seen[a.Name()] = true
	}
	batteries.Register(name, b)
}

// Lookup returns the battery of protocol name, or an error that lists the
// protocols that have one.
func Lookup(name string) (Battery, error) { return batteries.Get(name) }

// Names lists the protocols that have a battery.
func Names() []string { return batteries.Names() }

// Select returns the attacks of b named in names (all of them when names
// is empty), in the battery's order, or an error naming an unknown one.
func (b Battery) Select(names []string) ([]Attack, error) {
	if len(names) == 0 {
		return b.Attacks, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Attack
	for _, a := range b.Attacks {
		if want[a.Name()] {
			out = append(out, a)
			delete(want, a.Name())
		}
	}
	if len(want) > 0 {
		var unknown, known []string
		for n := range want {
			unknown = append(unknown, n)
		}
		for _, a := range b.Attacks {
			known = append(known, a.Name())
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("stress: no attack %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// Func is an Attack made of its parts.
type Func struct {
	AttackName, AttackDoc string
	// Svc is the service attacked; Probe, if set, the service the
	// legitimate client uses instead.
	Svc, Probe string
	Fn         func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error)
	// Check, if set, judges the attack's own figures.
	Check func(Figures) error
}

// Name implements Attack.
func (f Func) Name() string { return f.AttackName }

// Doc implements Attack.
func (f Func) Doc() string { return f.AttackDoc }

// Service implements Attack.
func (f Func) Service() string { return f.Svc }

// Run implements Attack.
func (f Func) Run(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
	return f.Fn(ctx, ep, b)
}

// ProbeService implements Probed.
func (f Func) ProbeService() string {
	if f.Probe != "" {
		return f.Probe
	}
	return f.Svc
}

// Judge implements Judged.
func (f Func) Judge(fig Figures) error {
	if f.Check == nil {
		return nil
	}
	return f.Check(fig)
}
