// Package engine is protospec's network fuzzer: it sends mutated, stateful
// message sequences to live servers and reports the inputs that break them.
//
// The engine knows no protocol. A Model per protocol lives in the
// protocol's own fuzz/<p> package, registered (Register) under the name of
// the protocol's contract. It knows how to reach each state (a request on
// a fresh or kept-alive connection, a UDP query or a TCP session), which
// values of an answer feed later messages (an HTTP session cookie, a DNS
// message ID), how to mutate one field without losing the message's shape,
// how many answers a message is owed, and how to frame and judge the
// answers. The engine adds byte-level havoc, keeps every input
// that reaches a new (state, answer) signature, and applies the oracles
// after each input:
//
//   - liveness: a valid probe message still gets a valid answer in time;
//   - crash: a launched server's process is still there (targets.Watcher);
//   - memory: its resident memory stays under MemFactor x the baseline;
//   - grammar: every answer follows the protocol's grammar;
//   - slow: a plainly valid message is answered within the deadline;
//   - differential: with two or more targets, all read the same bytes the
//     same way (same classes, same DNS answers, same number of answers),
//     unless a BenignRule accepts the difference. Each protocol ships its
//     known, permitted differences as rule sets (RegisterBenign): one for
//     any pair, one per server family.
//
// Inputs run Config.Parallel at a time on every target, judged in the
// order they were made. Findings are one per class (a difference's
// normalised signature, Disagreement.Class; the oracle, target and state
// otherwise), counted in Finding.Hits. The first input of each class is
// minimized by delta debugging (steps, lines, bytes) within a budget of
// tries and time, saved as finding-N/ (step-NNN.raw as sent,
// finding.json, transcript.txt by target, finding.pcapng) with a one-line
// `protospec replay` command, and reported as a failed spec
// fuzz/<proto>/<oracle>/<n>.
//
// Example, with every protocol's model linked in by protocols/:
//
//	import _ "github.com/protospec/protospec/protocols"
//
//	m, _ := engine.LookupModel(name) // name: one of engine.ModelNames()
//	res, err := engine.Run(ctx, engine.Config{
//		Model: m, Seed: 1, Duration: time.Minute, OutDir: "fuzz-out",
//		Targets: []engine.TargetSpec{{Name: "nginx", Open: func(ctx context.Context) (targets.Target, error) {
//			return targets.Open(ctx, "nginx", targets.Options{Protocol: name})
//		}}},
//	})
//	// res.Findings[i].Command: protospec replay fuzz-out/finding-1 --target nginx
package engine
