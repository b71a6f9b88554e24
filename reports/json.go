package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxReportSize bounds the size of a report.json that ReadJSON and ReadFile
// accept, so a wrong path (a capture, a disk image) fails fast instead of
// exhausting memory.
const MaxReportSize = 64 << 20

// ErrTooLarge is returned when a report is larger than MaxReportSize.
var ErrTooLarge = errors.New("reports: report larger than 64 MiB")

// ErrNilRun is returned by the writers when given no run.
var ErrNilRun = errors.New("reports: nil run")

// SchemaError is returned when a report names a schema other than
// SchemaVersion, or none.
type SchemaError struct {
	Schema string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("reports: unsupported schema %q", e.Schema)
}

// WriteJSON writes r as indented JSON followed by a newline. The output is
// stable: the same run always gives the same bytes. As in any JSON, strings
// are UTF-8: invalid bytes in a message become U+FFFD (transcripts are
// escaped before they reach the model, so they keep every byte).
func WriteJSON(w io.Writer, r *Run) error {
	if r == nil {
		return ErrNilRun
	}
	out := *r
	if out.Specs == nil {
		out.Specs = []Spec{} // "specs": [] rather than null
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("reports: encoding report: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// ReadJSON reads a report written by WriteJSON. It rejects input larger than
// MaxReportSize, a schema other than SchemaVersion (as a *SchemaError), and
// a run that fails Validate.
func ReadJSON(r io.Reader) (*Run, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxReportSize+1))
	if err != nil {
		return nil, fmt.Errorf("reports: reading report: %w", err)
	}
	if len(b) > MaxReportSize {
		return nil, ErrTooLarge
	}
	return decodeRun(b)
}

// ReadFile reads the report at path; see ReadJSON.
func ReadFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxReportSize {
		return nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
	}
	run, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

func decodeRun(b []byte) (*Run, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("reports: empty report")
	}
	// Look at the schema first, so that a report of another version is
	// named as such rather than failing on whichever field changed.
	var head struct {
		Schema json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("reports: decoding report: %w", err)
	}
	var schema string
	if len(head.Schema) > 0 {
		if err := json.Unmarshal(head.Schema, &schema); err != nil {
			schema = string(head.Schema)
		}
	}
	if schema != SchemaVersion {
		return nil, &SchemaError{Schema: schema}
	}
	var run Run
	if err := json.Unmarshal(b, &run); err != nil {
		return nil, fmt.Errorf("reports: decoding report: %w", err)
	}
	if err := run.Validate(); err != nil {
		return nil, err
	}
	return &run, nil
}

// Validate checks what the writers and Diff rely on: the schema, a known
// state and a non-empty, unique ID for every spec.
func (r *Run) Validate() error {
	if r == nil {
		return ErrNilRun
	}
	if r.Schema != SchemaVersion {
		return &SchemaError{Schema: r.Schema}
	}
	seen := make(map[string]int, len(r.Specs))
	for i, sp := range r.Specs {
		if sp.ID == "" {
			return fmt.Errorf("reports: spec #%d has no id", i+1)
		}
		if j, dup := seen[sp.ID]; dup {
			return fmt.Errorf("reports: spec #%d: duplicate id %q (first at #%d)", i+1, sp.ID, j+1)
		}
		seen[sp.ID] = i
		switch sp.State {
		case StatePassed, StateFailed, StateSkipped, StateError, StateSupported, StateUnsupported, StateInconclusive, StateNotRun:
		default:
			return fmt.Errorf("reports: spec %q: unknown state %q", sp.ID, sp.State)
		}
	}
	return nil
}
