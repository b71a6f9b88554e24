package main

import (
	"strings"

	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/suites/spec"
)

// The help texts' examples come from what each protocol registers, so that
// the CLI names no protocol itself.

// suiteExamples lists "protospec CMD ARGS" for every registered suite,
// with the args each suite gives.
func suiteExamples(cmd string, args func(spec.Protocol) []string) string {
	var lines []string
	for _, p := range spec.Protocols() {
		for _, a := range args(p) {
			lines = append(lines, "  protospec "+cmd+" "+a)
		}
	}
	return strings.Join(lines, "\n")
}

// fixtureExamples lists `protospec fixtures` for every protocol whose
// contract has a fixture, and for the run's TLS certificates.
func fixtureExamples() string {
	var lines []string
	for _, n := range protocol.Names() {
		if c, _ := protocol.Lookup(n); c.Fixture != nil {
			lines = append(lines, "  protospec fixtures "+n+" --out ./"+n+"-fixture")
		}
	}
	lines = append(lines, "  protospec fixtures tls --out ./tls      # ca.pem, cert.pem, key.pem")
	return strings.Join(lines, "\n")
}

// optionalFeatures lists the contracts' optional features: those a user's
// server is not assumed to offer unless run --feature declares them.
func optionalFeatures() []string {
	var out []string
	for _, n := range protocol.Names() {
		c, _ := protocol.Lookup(n)
		for _, f := range c.Features {
			if f.Optional {
				out = append(out, f.Name)
			}
		}
	}
	return out
}
