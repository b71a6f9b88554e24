package spec

import (
	"bytes"
	"fmt"
	"strings"
)

// Equal returns nil when got equals want, else an error that shows both as
// escaped excerpts around the first difference. what names the thing
// compared ("the uppercased line").
func Equal(what string, want, got []byte) error {
	if bytes.Equal(want, got) {
		return nil
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(i-40, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "%s differs from what the requirement demands\n", what)
	fmt.Fprintf(&b, "  expected: %s (%d bytes)\n", Excerpt(want, 200), len(want))
	fmt.Fprintf(&b, "  actual:   %s (%d bytes)\n", Excerpt(got, 200), len(got))
	if i > 0 || len(want) > 200 || len(got) > 200 {
		fmt.Fprintf(&b, "  first difference at byte %d: expected %s, actual %s",
			i, Excerpt(window(want, from, i), 80), Excerpt(window(got, from, i), 80))
	}
	return fmt.Errorf("%s", strings.TrimRight(b.String(), "\n"))
}

// window returns b[from:at+40] clipped to b.
func window(b []byte, from, at int) []byte {
	if from > len(b) {
		return nil
	}
	return b[from:min(at+40, len(b))]
}

// OneOf returns nil when got equals one of the accepted answers, else an
// error listing them all: verifiers accept every reaction the RFC allows.
func OneOf(what string, got []byte, accepted ...[]byte) error {
	for _, a := range accepted {
		if bytes.Equal(a, got) {
			return nil
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is none of the answers the requirement allows\n", what)
	for _, a := range accepted {
		fmt.Fprintf(&b, "  allowed:  %s\n", Excerpt(a, 120))
	}
	fmt.Fprintf(&b, "  actual:   %s (%d bytes)", Excerpt(got, 200), len(got))
	return fmt.Errorf("%s", b.String())
}

// Errorf makes a verifier error in the Expected/Actual form.
func Errorf(expected string, actual string, args ...any) error {
	return fmt.Errorf("expected: %s\n  actual:   %s", expected, fmt.Sprintf(actual, args...))
}
