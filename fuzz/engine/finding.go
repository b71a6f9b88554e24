package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/reports"
)

// findingFile is the description of a saved finding, next to its
// step-NNN.raw message files.
const findingFile = "finding.json"

// Saved is a finding as written under --out: what replay needs.
type Saved struct {
	ID      string      `json:"id"`
	Model   string      `json:"model"`
	Oracle  string      `json:"oracle"`
	State   string      `json:"state"`
	Detail  string      `json:"detail"`
	Targets []string    `json:"targets"`
	Class   string      `json:"class,omitempty"`
	Command string      `json:"command"`
	Steps   []SavedStep `json:"steps"`
	// Input is the loaded input (templates where the step had one).
	Input Input `json:"-"`
}

// SavedStep describes one step file.
type SavedStep struct {
	Step
	// File holds the bytes exactly as sent.
	File string `json:"file"`
	// Template is the step before values from earlier answers were
	// filled in, when it differs from File's bytes; replay renders it.
	Template []byte `json:"template,omitempty"`
}

// save writes fd under the campaign's OutDir as finding-N (the first free
// N), with a one-line replay command, and a pcapng of the confirming run.
func (e *engine) save(fd *Finding) error {
	if err := os.MkdirAll(e.cfg.OutDir, 0o755); err != nil {
		return err
	}
	var dir string
	for {
		e.nextDir++
		dir = filepath.Join(e.cfg.OutDir, "finding-"+strconv.Itoa(e.nextDir))
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	fd.Dir = dir
	var tflags []string
	for _, t := range e.cfg.Targets {
		tflags = append(tflags, "--target "+shellQuote(t.Name))
	}
	fd.Command = fmt.Sprintf("%s replay %s %s", e.cfg.Command, shellQuote(dir), strings.Join(tflags, " "))
	sv := Saved{ID: fd.ID, Model: e.m.Name(), Oracle: fd.Oracle, State: fd.State, Detail: fd.Detail,
		Targets: fd.Targets, Class: fd.Class, Command: fd.Command}
	for i, st := range fd.Input.Steps {
		sent := st.Data
		if i < len(fd.Sent) {
			sent = fd.Sent[i]
		}
		ss := SavedStep{Step: st, File: fmt.Sprintf("step-%03d.raw", i+1)}
		if !bytes.Equal(sent, st.Data) {
			ss.Template = st.Data
		}
		if err := os.WriteFile(filepath.Join(dir, ss.File), sent, 0o644); err != nil {
			return err
		}
		sv.Steps = append(sv.Steps, ss)
	}
	b, err := json.MarshalIndent(sv, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, findingFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "transcript.txt"), []byte(transcriptText(fd.events)), 0o644); err != nil {
		return err
	}
	return pcap.WriteTranscriptFile(filepath.Join(dir, "finding.pcapng"), pcapEvents(fd.events), pcap.TranscriptOptions{Comment: fd.ID})
}

// pcapEvents turns a transcript into capture events. With several
// targets each target's connections are its own ("tcp#1@nginx") and its
// events follow the previous target's.
func pcapEvents(evs []event) []pcap.Event {
	multi := len(targetsOf(evs)) > 1
	out := make([]pcap.Event, 0, len(evs))
	var offset, end time.Duration
	prev := ""
	for _, ev := range evs {
		if ev.Dir == "note" {
			continue
		}
		conn := ev.Conn
		if multi {
			if ev.Target != prev && prev != "" {
				offset = end + time.Millisecond
			}
			prev = ev.Target
			conn += "@" + ev.Target
		}
		at := offset + ev.At
		end = max(end, at)
		out = append(out, pcap.Event{At: at, Conn: conn, Dir: ev.Dir, Local: ev.Local, Remote: ev.Remote, Data: ev.Data})
	}
	return out
}

// targetsOf lists the targets a transcript's events happened with, in
// order.
func targetsOf(evs []event) []string {
	var out []string
	for _, ev := range evs {
		if !contains(out, ev.Target) {
			out = append(out, ev.Target)
		}
	}
	return out
}

// transcriptText is what was sent and received, one event a line; with
// several targets, one section per target under a line naming it.
func transcriptText(evs []event) string {
	var b strings.Builder
	multi := len(targetsOf(evs)) > 1
	prev := ""
	for i, ev := range evs {
		if multi && (i == 0 || ev.Target != prev) {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "== %s ==\n", ev.Target)
			prev = ev.Target
		}
		fmt.Fprintf(&b, "%9.3fms %-8s %-5s %s\n", float64(ev.At.Microseconds())/1000, ev.Conn, ev.Dir, Excerpt(ev.Data, 2000))
	}
	return b.String()
}

// Excerpt quotes at most max bytes of b as a Go string body (without the
// quotes), with "..." when cut: how models show bytes in their errors.
func Excerpt(b []byte, max int) string {
	cut := len(b) > max
	if cut {
		b = b[:max]
	}
	s := strconv.Quote(string(b))
	s = s[1 : len(s)-1]
	if cut {
		s += "..."
	}
	return s
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@[]", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LoadFinding reads a finding saved under --out.
func LoadFinding(dir string) (*Saved, error) {
	b, err := os.ReadFile(filepath.Join(dir, findingFile))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	var sv Saved
	if err := json.Unmarshal(b, &sv); err != nil {
		return nil, fmt.Errorf("engine: %s: %w", filepath.Join(dir, findingFile), err)
	}
	for _, ss := range sv.Steps {
		if ss.File == "" || strings.ContainsAny(ss.File, `/\`) {
			return nil, fmt.Errorf("engine: %s: bad step file name %q", dir, ss.File)
		}
		data, err := os.ReadFile(filepath.Join(dir, ss.File))
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		st := ss.Step
		st.Data = data
		if ss.Template != nil {
			st.Data = ss.Template
		}
		sv.Input.Steps = append(sv.Input.Steps, st)
	}
	if len(sv.Input.Steps) == 0 {
		return nil, fmt.Errorf("engine: %s: the finding has no steps", dir)
	}
	return &sv, nil
}

// Observation is one oracle that fired when an input was replayed.
type Observation struct {
	Oracle, State, Detail string
	Targets               []string
}

// ReplayResult is what replaying a saved finding showed.
type ReplayResult struct {
	Saved *Saved
	// Reproduced is set when the saved finding's oracle fired again.
	Reproduced   bool
	Observations []Observation
	Transcript   string
}

// Replay sends a saved finding's messages to fresh targets once, through
// the same executor and oracles as the campaign, and tells whether the
// finding's oracle fires again.
func Replay(ctx context.Context, dir string, tgts []TargetSpec, timing Timing) (*ReplayResult, error) {
	sv, err := LoadFinding(dir)
	if err != nil {
		return nil, err
	}
	m, err := LookupModel(sv.Model)
	if err != nil {
		return nil, err
	}
	if len(tgts) == 0 {
		return nil, errors.New("engine: replay needs a target")
	}
	e := &engine{cfg: Config{Model: m, Targets: tgts, MemFactor: 4, MemSample: time.Hour}, m: m, ctx: ctx,
		timing: timing.withDefaults(), res: &Result{}, noRestart: true}
	if len(tgts) > 1 {
		e.timing.Linger = true
		if timing.Quiet <= 0 {
			e.timing.Quiet = 30 * time.Millisecond
		}
	}
	defer e.closeAll()
	for _, ts := range tgts {
		lt := &liveTarget{spec: ts}
		if err := e.open(lt); err != nil {
			return nil, err
		}
		e.live = append(e.live, lt)
		if err := probe(lt, m, e.timing); err != nil {
			return nil, fmt.Errorf("engine: target %s does not answer a valid %s message before the replay: %v", ts.Name, m.Name(), err)
		}
	}
	fails, _ := e.check(sv.Input)
	rr := &ReplayResult{Saved: sv}
	for _, f := range fails {
		rr.Observations = append(rr.Observations, Observation{Oracle: f.Oracle, State: f.State, Detail: f.Detail, Targets: f.Targets})
		if f.Oracle == sv.Oracle {
			rr.Reproduced = true
		}
		if rr.Transcript == "" {
			rr.Transcript = transcriptText(f.events)
		}
	}
	return rr, nil
}

// AcceptedLines says, one line per benign rule, how many differences it
// accepted, and why when withWhy.
func (r *Result) AcceptedLines(withWhy bool) []string {
	var out []string
	for _, a := range r.Accepted {
		l := fmt.Sprintf("benign: %d accepted by %s (%s)", a.N, a.Rule.Source, a.Rule.Line)
		if withWhy && a.Rule.Why != "" {
			l += ": " + a.Rule.Why
		}
		out = append(out, l)
	}
	return out
}

// oracleTitles say what each oracle checks, for reports.
var oracleTitles = map[string]string{
	OracleLiveness:     "the server keeps answering a valid message after every input",
	OracleCrash:        "the server process survives every input",
	OracleMemory:       "the server's memory stays bounded",
	OracleGrammar:      "every answer follows the protocol's grammar",
	OracleSlow:         "every valid message is answered within the deadline",
	OracleDifferential: "the targets interpret the same bytes the same way",
}

// Report turns a campaign's result into the normal run model: one failed
// spec per finding (fuzz/<proto>/<oracle>/<n>, its message holding the
// reproducer command) and one passed spec per active oracle that found
// nothing (fuzz/<proto>/<oracle>/0).
func (r *Result) Report(tool reports.Tool, target reports.Target, started time.Time) *reports.Run {
	run := &reports.Run{Schema: reports.SchemaVersion, Tool: tool, Kind: reports.KindFuzz, Protocol: r.Protocol,
		Target: target, Started: started, Duration: r.Elapsed}
	run.Notes = append(run.Notes, fmt.Sprintf("%d execs in %v (%.0f/s), %d states reached, corpus %d, %d restarts",
		r.Execs, r.Elapsed.Round(time.Millisecond), r.ExecsPerSecond(), r.States, r.Corpus, r.Restarts))
	if r.Minimizing > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%v of it minimizing findings", r.Minimizing.Round(time.Millisecond)))
	}
	run.Notes = append(run.Notes, r.AcceptedLines(true)...)
	run.Notes = append(run.Notes, r.Notes...)
	found := map[string]bool{}
	for _, f := range r.Findings {
		found[f.Oracle] = true
		msg := fmt.Sprintf("%s (targets %s; state %s)", f.Detail, strings.Join(f.Targets, ", "), f.State)
		if f.Hits > 1 {
			msg += fmt.Sprintf("; %d inputs of this class (%s), in %s", f.Hits, f.Class, strings.Join(f.States, ", "))
		}
		if f.Minimized {
			msg += fmt.Sprintf("; minimized from %d steps/%d bytes to %d/%d", f.OrigSteps, f.OrigBytes, len(f.Input.Steps), f.Input.Size())
		}
		if f.Flaky {
			msg += "; did not happen again on a re-run (flaky)"
		}
		if f.Command != "" {
			msg += "\nreproduce: " + f.Command
		}
		sp := reports.Spec{ID: f.ID, Protocol: r.Protocol, Doc: "fuzz", Section: f.Oracle, Level: levelOf(f.Oracle),
			Title: oracleTitles[f.Oracle], State: reports.StateFailed, Message: msg, Transcript: reportEvents(f.events)}
		if f.Dir != "" {
			sp.Attachments = append(sp.Attachments, reports.Attachment{Name: "reproducer", Path: f.Dir},
				reports.Attachment{Name: "capture", Path: filepath.Join(f.Dir, "finding.pcapng"), MediaType: "application/x-pcapng"})
		}
		run.Specs = append(run.Specs, sp)
	}
	for _, o := range r.Oracles {
		if found[o] {
			continue
		}
		run.Specs = append(run.Specs, reports.Spec{ID: fmt.Sprintf("fuzz/%s/%s/0", r.Protocol, o), Protocol: r.Protocol,
			Doc: "fuzz", Section: o, Level: levelOf(o), Title: oracleTitles[o], State: reports.StatePassed,
			Message: fmt.Sprintf("nothing found in %d execs", r.Execs)})
	}
	return run
}

func levelOf(oracle string) string {
	switch oracle {
	case OracleSlow, OracleDifferential:
		return reports.LevelShould
	}
	return reports.LevelMust
}

func reportEvents(evs []event) []reports.Event {
	var out []reports.Event
	multi := len(targetsOf(evs)) > 1
	prev := ""
	for _, ev := range evs {
		conn := ev.Conn
		if multi {
			conn = ev.Target + " " + ev.Conn
			if ev.Target != prev {
				out = append(out, reports.Event{Dir: reports.DirNote, Data: "target " + ev.Target})
				prev = ev.Target
			}
		}
		if len(out) == 200 {
			out = append(out, reports.Event{Dir: reports.DirNote, Data: "(transcript cut after 200 events)"})
			break
		}
		out = append(out, reports.Event{At: ev.At, Conn: conn, Dir: ev.Dir, Len: len(ev.Data),
			Data: Excerpt(ev.Data, 512), Truncated: len(ev.Data) > 512})
	}
	return out
}
