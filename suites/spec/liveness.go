package spec

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/protospec/protospec/internal/protocol"
)

// InconclusiveEntry is the name of the report entry that turns a spec's
// pass into "inconclusive": the pass rested on a refusal (a close, a
// reset, silence) and the target, probed right after on a fresh
// connection, could not answer a valid request either.
const InconclusiveEntry = "inconclusive"

// Preflight checks, before a run, that the target answers one valid
// exchange on each endpoint of the protocol's services it offers (its
// contract's and the suite's Protocol.Services), with
// the contract's liveness probe (c.OverTLS probes the TLS counterparts of
// TCP services). An endpoint that several services share (an address
// given for every service) is alive when one of their probes answers;
// services the probe cannot show alive (discard) are not checked. The
// error names each dead endpoint and why: a run against a dead target
// ends in seconds instead of passing every spec that accepts silence.
func Preflight(ctx context.Context, proto string, c Config) error {
	contract, ok := protocol.Lookup(proto)
	if !ok || contract.Probe == nil || c.Target == nil {
		return nil
	}
	step := c.StepTimeout
	if step <= 0 {
		step = DefaultStepTimeout
	}
	type endpoint struct {
		services []string
		alive    bool
		why      []string
	}
	eps := map[string]*endpoint{}
	var order []string
	seen := map[string]bool{}
	keys := make([]string, 0, len(contract.Services))
	for _, s := range contract.Services {
		keys = append(keys, s.Key())
	}
	if p, ok := LookupProtocol(proto); ok {
		keys = append(keys, p.Services...)
	}
	for _, key := range keys {
		if name, ok := strings.CutSuffix(key, "/tcp"); ok && c.OverTLS {
			key = name + "/tls"
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		ep, err := c.Target.Endpoint(key)
		if err != nil {
			continue
		}
		id := ep.Network + " " + ep.Addr
		e := eps[id]
		if e == nil {
			e = &endpoint{}
			eps[id] = e
			order = append(order, id)
		}
		if e.alive {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, step)
		err = contract.Probe(pctx, key, ep.Addr)
		cancel()
		switch {
		case err == nil:
			e.alive, e.why = true, nil
		case errors.Is(err, protocol.ErrUnprobed):
		default:
			e.services = append(e.services, key)
			e.why = append(e.why, err.Error())
		}
	}
	var dead []string
	for _, id := range order {
		if e := eps[id]; !e.alive && len(e.why) > 0 {
			dead = append(dead, fmt.Sprintf("%s (%s): %s", id, strings.Join(e.services, ", "), strings.Join(e.why, "; ")))
		}
	}
	if len(dead) == 0 {
		return nil
	}
	sort.Strings(dead)
	return fmt.Errorf("target %s does not answer a valid exchange, so no spec could be judged: %s", c.Target.Name(), strings.Join(dead, " | "))
}

// Refused records that the spec's verdict may rest on service refusing
// (closing, resetting, staying silent): a reaction the requirement
// accepts, but one a dead server shows too. When the spec passes, the
// spine probes service again on a fresh connection and reports the spec
// inconclusive if it cannot answer. The spine records the refusals its
// connections see by itself; verifiers call Refused for the ones they
// judge without the spine's reads.
func (t *T) Refused(service string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refused == nil {
		t.refused = map[string]bool{}
	}
	t.refused[t.Service(service)] = true
}

// reprobe runs after a spec that passed having seen a refusal: each
// refusing service is probed on a fresh connection, and a failed probe
// makes the pass inconclusive.
func (t *T) reprobe() {
	t.mu.Lock()
	var services []string
	for s := range t.refused {
		services = append(services, s)
	}
	t.mu.Unlock()
	if len(services) == 0 || t.cfg.Target == nil {
		return
	}
	r := ginkgo.CurrentSpecReport()
	if r.Failed() || r.State.Is(skippedStates) {
		return
	}
	contract, ok := protocol.Lookup(t.ID.Protocol)
	if !ok || contract.Probe == nil {
		return
	}
	sort.Strings(services)
	var why []string
	for _, s := range services {
		ep, err := t.cfg.Target.Endpoint(s)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.cfg.StepTimeout)
		start := time.Now()
		err = contract.Probe(ctx, s, ep.Addr)
		cancel()
		if err != nil && !errors.Is(err, protocol.ErrUnprobed) {
			why = append(why, err.Error())
			t.Note("liveness probe of %s after the spec failed (%v): %v", s, time.Since(start).Round(time.Millisecond), err)
		}
	}
	if len(why) > 0 {
		msg := "the spec passed on a refusal (close, reset or silence), but the target, probed right after on a fresh connection, did not answer a valid request either: " + strings.Join(why, "; ")
		ginkgo.AddReportEntry(InconclusiveEntry, msg, ginkgo.ReportEntryVisibilityNever)
	}
}

// skippedStates are the states of a spec whose verdict is no pass.
const skippedStates = types.SpecStateSkipped | types.SpecStatePending
