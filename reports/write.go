package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Names of the files WriteAll writes.
const (
	FileJSON     = "report.json"
	FileJUnit    = "junit.xml"
	FileMarkdown = "report.md"
	FileHTML     = "report.html"
)

// Files lists the files WriteAll writes, in the order it writes them.
var Files = []string{FileJSON, FileJUnit, FileMarkdown, FileHTML}

// Formats names the report formats, as `protospec report --format` takes
// them, in the order of Files.
var Formats = []string{"json", "junit", "markdown", "html"}

// WriteFormat writes r in the named format (one of Formats).
func WriteFormat(w io.Writer, format string, r *Run) error {
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "junit":
		return WriteJUnit(w, r)
	case "markdown", "md":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	}
	return fmt.Errorf("reports: unknown format %q (want json, junit, markdown or html)", format)
}

// WriteAll writes every report of r into dir, creating it: report.json,
// junit.xml, report.md and report.html. Each file is written to a
// temporary name and renamed, so a reader never sees half a report. It
// writes every file it can and returns all errors.
func WriteAll(dir string, r *Run) error {
	if r == nil {
		return ErrNilRun
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	var errs []error
	for i, name := range Files {
		if err := writeFile(filepath.Join(dir, name), Formats[i], r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func writeFile(path, format string, r *Run) error {
	return writeWith(path, func(w io.Writer) error { return WriteFormat(w, format, r) })
}

// writeWith writes a file through a temporary name in its directory and a
// rename, so a reader never sees half of it.
func writeWith(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("reports: writing %s: %w", path, err)
	}
	return nil
}
