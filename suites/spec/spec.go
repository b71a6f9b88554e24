// Package spec holds what every protospec suite shares: the identity of a
// spec (<proto>/<doc>/<section>/<slug>, a requirement level, labels), the
// handle a spec uses to reach the target, connections whose every read and
// write has a deadline and a size limit, failure messages that show what was
// sent and what came back, and the transcript attached to each spec's report.
//
// A suite declares its specs with It, one RFC requirement each, the RFC's
// sentence quoted above:
//
//	var _ = Describe("RFC 862 TCP echo", Label("echo", "rfc862"), func() {
//		// "Once a connection is established any data received is sent back."
//		spec.It("echo/rfc862/tcp/echoes-data", spec.MUST, "sends back the data it receives", func(t *spec.T) {
//			c := t.Dial("echo/tcp")
//			c.Send("hello\n")
//			t.Check(spec.Equal("the echoed bytes", []byte("hello\n"), c.ReadN(6)))
//		})
//	})
package spec

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
)

// Level is a requirement level, taken from the RFC's own words.
type Level string

// Requirement levels (RFC 2119). SHOULD NOT and MUST NOT requirements use
// SHOULD and MUST: the spec's title says what must not happen.
const (
	MUST   Level = "MUST"
	SHOULD Level = "SHOULD"
	MAY    Level = "MAY"
)

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
	ID    ID
	Level Level
	Title string
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

// It declares a spec. The Ginkgo text is the ID followed by the title, so
// --focus takes IDs; the labels come from Meta.Labels. Extra Ginkgo
// decorators (a longer SpecTimeout, Serial) may follow the body. A
// malformed or duplicate ID makes Ginkgo fail the tree with a clear error.
func It(id string, level Level, title string, body func(t *T), decorators ...any) bool {
	pid, err := ParseID(id)
	if err == nil && level != MUST && level != SHOULD && level != MAY {
		err = fmt.Errorf("spec: %s: level %q is not MUST, SHOULD or MAY", id, level)
	}
	if err == nil {
		regMu.Lock()
		if _, dup := registry[id]; dup {
			err = fmt.Errorf("spec: %s declared twice", id)
		} else {
			registry[id] = Meta{ID: pid, Level: level, Title: title}
		}
		regMu.Unlock()
	}
	if err != nil {
		// Report the mistake as a failing spec rather than panicking:
		// the other specs still run.
		return ginkgo.It(id+" "+title, func() { ginkgo.Fail(err.Error()) })
	}
	m := Meta{ID: pid, Level: level, Title: title}
	args := []any{m.Labels(), ginkgo.SpecTimeout(DefaultSpecTimeout)}
	args = append(args, decorators...)
	args = append(args, func(ctx ginkgo.SpecContext) {
		t := newT(ctx, m)
		ginkgo.DeferCleanup(t.finish)
		body(t)
	})
	return ginkgo.It(id+" "+title, args...)
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
	// Fixtures, if set, exports what a server must serve for this suite
	// (docroot, zone files) into dir, for `protospec fixtures`.
	Fixtures func(dir string) error
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
