package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxStepBytes bounds one step's message; mutations never grow past it.
const MaxStepBytes = 256 << 10

// Step is one message of an input: bytes sent on one connection (TCP) or
// as one datagram (UDP).
type Step struct {
	// Service is the target service: "http/tcp", "dns/udp".
	Service string `json:"service"`
	// Conn numbers the connection or socket within the input: steps with
	// the same Conn and Service share it, in order.
	Conn int `json:"conn"`
	// Data is the message, possibly a template (see Model.Render).
	Data []byte `json:"-"`
	// HalfClose shuts the sending side down after the message (TCP).
	HalfClose bool `json:"half_close,omitempty"`
	// Use names the value from an earlier answer that Render fills in:
	// "sid" (HTTP cookie), "id" (DNS message ID).
	Use string `json:"use,omitempty"`
}

// Input is a sequence of steps run against a fresh set of connections.
type Input struct {
	Steps []Step
}

// Clone returns a deep copy.
func (in Input) Clone() Input {
	out := Input{Steps: make([]Step, len(in.Steps))}
	for i, s := range in.Steps {
		s.Data = bytes.Clone(s.Data)
		out.Steps[i] = s
	}
	return out
}

// Size is the total number of message bytes.
func (in Input) Size() int {
	n := 0
	for _, s := range in.Steps {
		n += len(s.Data)
	}
	return n
}

// isTCP tells a service's transport.
func isTCP(service string) bool { return strings.HasSuffix(service, "/tcp") }

// LoadSeeds reads seed inputs from dir: every regular file is a raw
// message made into a one-step input by the model; every sub-directory
// holding a finding.json (a saved finding) is loaded as its input.
func LoadSeeds(dir string, m Model) ([]Input, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("engine: seeds: %w", err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out []Input
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(p, findingFile)); err != nil {
				continue
			}
			sv, err := LoadFinding(p)
			if err != nil {
				return nil, err
			}
			if sv.Model == m.Name() {
				out = append(out, sv.Input)
			}
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("engine: seeds: %w", err)
		}
		if len(b) > MaxStepBytes {
			b = b[:MaxStepBytes]
		}
		out = append(out, Input{Steps: []Step{m.SeedStep(b)}})
	}
	return out, nil
}
