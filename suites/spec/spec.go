// Package spec holds what every protospec suite shares: the identity of a
// spec (<proto>/<doc>/<section>/<slug>, a requirement level, the document's
// sentence, labels), the handle a spec uses to reach the target,
// connections whose every read and write has a deadline and a size limit,
// failure messages that show the requirement, what was sent and what came
// back, and the transcript attached to each spec's report.
//
// A suite declares each section it covers once, and each requirement of it
// with its level and the sentence as data; the ID is derived from the
// structure (here echo/rfc862/tcp/echoes-data):
//
//	var tcpEcho = spec.Section("echo", "rfc862", "tcp", "TCP Based Echo Service")
//
//	var _ = Describe("RFC 862 TCP echo", func() {
//		tcpEcho.It("echoes-data", spec.MUST, "sends back the data it receives",
//			spec.Inferred("Once a connection is established any data received is sent back.", "RFC 862 predates RFC 2119"),
//			func(t *spec.T) {
//				c := t.Dial("echo/tcp")
//				c.Send("hello\n")
//				got, err := c.ReadN(6)
//				t.Check(err)
//				t.Check(spec.Equal("the echoed bytes", []byte("hello\n"), got))
//			})
//	})
package spec

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
)

// Level is a requirement level, taken from the RFC's own words, or
// FIXTURE for what protospec's own fixture defines.
type Level string

// Requirement levels (RFC 2119). SHOULD NOT and MUST NOT requirements use
// SHOULD and MUST: the spec's title says what must not happen. A MAY spec
// reports whether the optional behaviour is supported and fails a run only
// when the user asks for it (--fail-on may). FIXTURE is the contract of
// protospec's fixture (the /session cookie, /form): no RFC demands it, but
// the suite cannot judge a server that does not serve it.
const (
	MUST    Level = "MUST"
	SHOULD  Level = "SHOULD"
	MAY     Level = "MAY"
	FIXTURE Level = "FIXTURE"
)

// Levels lists the requirement levels in order of strength.
var Levels = []Level{MUST, SHOULD, MAY, FIXTURE}

func (l Level) valid() bool {
	for _, v := range Levels {
		if l == v {
			return true
		}
	}
	return false
}

// ID is the stable identity of a spec: <proto>/<doc>/<section>/<slug>.
type ID struct {
	Protocol string // "echo", "http1", "dns"
	Doc      string // "rfc862", "rfc9112", or a protocol protospec defines ("uppercase")
	Section  string // "9.3", "tcp"
	Slug     string // "persistent-by-default"
}

func (id ID) String() string {
	return id.Protocol + "/" + id.Doc + "/" + id.Section + "/" + id.Slug
}

var (
	wordRE    = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	sectionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]*$`)
	slugRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9\-.]*$`)
)

// ParseID parses a spec ID and checks each part's form.
func ParseID(s string) (ID, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return ID{}, fmt.Errorf("spec: ID %q is not <proto>/<doc>/<section>/<slug>", s)
	}
	id := ID{parts[0], parts[1], parts[2], parts[3]}
	switch {
	case !wordRE.MatchString(id.Protocol):
		return ID{}, fmt.Errorf("spec: ID %q: bad protocol %q", s, id.Protocol)
	case !wordRE.MatchString(id.Doc):
		return ID{}, fmt.Errorf("spec: ID %q: bad document %q", s, id.Doc)
	case !sectionRE.MatchString(id.Section):
		return ID{}, fmt.Errorf("spec: ID %q: bad section %q", s, id.Section)
	case !slugRE.MatchString(id.Slug):
		return ID{}, fmt.Errorf("spec: ID %q: bad slug %q", s, id.Slug)
	}
	return id, nil
}

// Meta is what is known of a spec without running it.
type Meta struct {
	ID       ID
	Level    Level
	Title    string
	Sentence Sentence
	// SectionTitle is the heading of the spec's section (Specs.Title).
	SectionTitle string
	// File and Line are where the spec is declared, relative to the
	// module root (see SourcePath).
	File string
	Line int
}

// Labels are the Ginkgo labels of a spec: its protocol, its document, its
// document and section ("rfc9112:9.3") and its level in lower case, so that
// --label-filter='rfc9112 && must' selects the MUSTs of RFC 9112.
func (m Meta) Labels() ginkgo.Labels {
	return ginkgo.Label(m.ID.Protocol, m.ID.Doc, m.ID.Doc+":"+m.ID.Section, strings.ToLower(string(m.Level)))
}

var (
	regMu    sync.Mutex
	registry = map[string]Meta{}
	// sentences maps a document's sentence to the first spec quoting it.
	sentences = map[string]string{}
)

// Lookup returns the metadata of a declared spec.
func Lookup(id string) (Meta, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	m, ok := registry[id]
	return m, ok
}

// Registered returns every spec declared so far, ordered by ID. Specs are
// declared when Ginkgo builds its tree, inside RunSpecs.
func Registered() []Meta {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]Meta, 0, len(registry))
	for _, m := range registry {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.String() < out[j].ID.String() })
	return out
}

// DefaultSpecTimeout bounds a whole spec; each network step has its own,
// shorter deadline (Config.StepTimeout).
const DefaultSpecTimeout = 60 * time.Second

// A Specs is one section of one document of a protocol: the specs declared
// through it get IDs <protocol>/<doc>/<section>/<slug>.
type Specs struct {
	Protocol, Doc, Section string
	// Title is the section's heading in its document ("Persistence").
	Title string
}

// Section names a section whose requirements a suite declares:
//
//	var persistence = spec.Section("http1", "rfc9112", "9.3", "Persistence")
func Section(protocol, doc, section, title string) Specs {
	return Specs{Protocol: protocol, Doc: doc, Section: section, Title: title}
}

// It declares a spec of the section: one requirement, its level, a title
// saying what the target must do, and the document's sentence. The Ginkgo
// text is the ID followed by the title, so --focus takes IDs; the labels
// come from Meta.Labels. Extra Ginkgo decorators (a longer SpecTimeout,
// Serial) may follow the body. A malformed or duplicate ID, or a sentence
// that CheckSentence refuses, makes the spec fail with a clear error
// instead of running.
func (s Specs) It(slug string, level Level, title string, sentence Sentence, body func(t *T), decorators ...any) bool {
	id := ID{s.Protocol, s.Doc, s.Section, slug}.String()
	pid, err := ParseID(id)
	m := Meta{ID: pid, Level: level, Title: title, Sentence: sentence, SectionTitle: s.Title}
	if _, file, line, ok := runtime.Caller(1); ok {
		m.File, m.Line = SourcePath(file), line
	}
	if err == nil {
		err = CheckSentence(m)
	}
	if err == nil {
		err = register(m)
	}
	if err != nil {
		// Report the mistake as a failing spec rather than panicking:
		// the other specs still run.
		return ginkgo.It(id+" "+title, ginkgo.Label(s.Protocol), func() { ginkgo.Fail(err.Error()) })
	}
	// Offset(1): Ginkgo names the suite's file as the spec's location,
	// not this one.
	args := []any{m.Labels(), ginkgo.SpecTimeout(DefaultSpecTimeout), ginkgo.Offset(1)}
	args = append(args, decorators...)
	args = append(args, func(ctx ginkgo.SpecContext) {
		t := newT(ctx, m)
		ginkgo.DeferCleanup(t.finish)
		body(t)
	})
	return ginkgo.It(id+" "+title, args...)
}

// register records m, refusing a second spec of the same ID and a second
// use of a sentence that is not marked as shared.
func register(m Meta) error {
	id := m.ID.String()
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[id]; dup {
		return fmt.Errorf("spec: %s declared twice", id)
	}
	key := m.ID.Protocol + "/" + m.ID.Doc + ": " + m.Sentence.Text
	if first, dup := sentences[key]; dup && m.Sentence.Shared == "" {
		return fmt.Errorf("spec: %s quotes the sentence of %s: quote its own, or say why it is shared (Sentence.SharedBecause)", id, first)
	}
	if _, seen := sentences[key]; !seen {
		sentences[key] = id
	}
	registry[id] = m
	return nil
}

// Protocol describes a protocol whose suite is compiled in.
type Protocol struct {
	Name  string // "echo"
	Title string // "socket echo services (RFC 862 echo, uppercase, ...)"
	// Docs lists the documents the suite covers, for `protospec list`.
	Docs []string
	// Setup, if set, runs before the target is opened, in both entry
	// points: it starts what the suite itself must serve (a DNS suite's
	// fake authoritative servers, which a resolver target is pointed at)
	// and returns parameters for targets.Options.Params and a teardown.
	Setup func(ctx context.Context) (params map[string]string, teardown func(), err error)
	// Examples are `protospec run` command lines for the CLI's help,
	// without "protospec run": "echo --target xinetd --baseline builtin".
	// What a server must serve (`protospec fixtures`) is the protocol
	// contract's Fixture.
	Examples []string
	// Services are the services the suite reaches beyond its contract's
	// ("resolver/udp"): the liveness preflight probes them too.
	Services []string
}

var protocols = map[string]Protocol{}

// RegisterProtocol makes a suite's protocol known to the CLI. Call it from
// the suite package as `var _ = spec.RegisterProtocol(...)`.
func RegisterProtocol(p Protocol) bool {
	regMu.Lock()
	defer regMu.Unlock()
	protocols[p.Name] = p
	return true
}

// Protocols returns the registered protocols ordered by name.
func Protocols() []Protocol {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]Protocol, 0, len(protocols))
	for _, p := range protocols {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupProtocol returns a registered protocol.
func LookupProtocol(name string) (Protocol, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	p, ok := protocols[name]
	return p, ok
}
