package targets

import (
	"fmt"
	"sort"
	"sync"
)

// Static is a Target described by tables: the endpoints it offers, the
// features it has, and the reasons it lacks the rest. Launchers build one
// once their server is up; OnClose stops the server.
type Static struct {
	TargetName string
	Kind       string
	Version    string
	Endpoints  map[string]Endpoint
	// Features lists the optional features offered. AllFeatures offers
	// every feature, as an address target does: protospec cannot know what
	// a user's server lacks and lets the specs find out.
	Features    map[string]bool
	AllFeatures bool
	// Reasons explain, per service or feature name, why it is not offered.
	Reasons map[string]string
	// Otherwise is the reason given for anything neither offered nor in
	// Reasons; empty means "<name> does not offer <service>".
	Otherwise string
	OnClose   func() error
	// Proc is the server process the launcher started, if any; it makes
	// the target a Watcher that can tell a crash and memory growth.
	Proc *Process
	// Dirs are local directories of the target that specs may read, by a
	// contract's name for them (smtp.DirMaildir: the Maildir store the
	// server delivers into, which is how a mail suite sees a delivery).
	Dirs map[string]string

	closeOnce sync.Once
	closeErr  error
}

// Name implements Target.
func (s *Static) Name() string { return s.TargetName }

// Info implements Target.
func (s *Static) Info() Info {
	eps := make(map[string]string, len(s.Endpoints))
	for k, v := range s.Endpoints {
		eps[k] = v.String()
	}
	return Info{Name: s.TargetName, Kind: s.Kind, Version: s.Version, Endpoints: eps}
}

// Endpoint implements Target.
func (s *Static) Endpoint(service string) (Endpoint, error) {
	if ep, ok := s.Endpoints[service]; ok {
		return ep, nil
	}
	return Endpoint{}, s.missing(service)
}

// Feature implements Target.
func (s *Static) Feature(name string) error {
	if s.AllFeatures || s.Features[name] {
		return nil
	}
	return s.missing(name)
}

// Dir implements Directories.
func (s *Static) Dir(name string) (string, error) {
	if d, ok := s.Dirs[name]; ok {
		return d, nil
	}
	return "", s.missing(name)
}

func (s *Static) missing(what string) error {
	if r, ok := s.Reasons[what]; ok {
		return NotOffered("%s", r)
	}
	if s.Otherwise != "" {
		return NotOffered("%s", s.Otherwise)
	}
	return NotOffered("target %s does not offer %s", s.TargetName, what)
}

// Services lists the offered services in order.
func (s *Static) Services() []string {
	out := make([]string, 0, len(s.Endpoints))
	for k := range s.Endpoints {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Close implements Target; it calls OnClose once.
func (s *Static) Close() error {
	s.closeOnce.Do(func() {
		if s.OnClose != nil {
			s.closeErr = s.OnClose()
		}
	})
	return s.closeErr
}

// String describes the target for logs.
func (s *Static) String() string { return fmt.Sprintf("%s (%s)", s.TargetName, s.Kind) }

// Alive implements Watcher: nil while Proc runs, or when there is no Proc.
func (s *Static) Alive() error {
	if s.Proc == nil {
		return nil
	}
	return s.Proc.Alive()
}

// RSS implements Watcher: the memory of Proc's process group; an error
// wrapping ErrNotOffered when the target has no process of its own.
func (s *Static) RSS() (int64, error) {
	if s.Proc == nil {
		return 0, NotOffered("target %s runs no server process of its own", s.TargetName)
	}
	return s.Proc.RSS()
}
