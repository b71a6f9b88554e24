package echo

import (
	"errors"
	"testing"
	"time"
)

func TestYearOf(t *testing.T) {
	now := time.Date(2026, 12, 2, 5, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string // "ok", "none" or "wrong"
	}{
		{"Wednesday, December 2, 2026 05:30:00-UTC\r\n", "ok"},
		{"Wed Dec  2 05:30:00 2026\n", "ok"},
		{"02 DEC 26 05:30:00 UTC\r\n", "ok"}, // RFC 822 two-digit year
		{"2026-12-02T05:30:00Z", "ok"},
		{"Thu Jan  1 00:00:00 1970\n", "wrong"},
		{"05:30:00\n", "none"},
		{"", "none"},
	} {
		err := yearOf([]byte(tc.in), now)
		got := "wrong"
		switch {
		case err == nil:
			got = "ok"
		case errors.Is(err, errNoYear):
			got = "none"
		}
		if got != tc.want {
			t.Errorf("yearOf(%q) = %v (%s), want %s", tc.in, err, got, tc.want)
		}
	}
	// New Year's Eve in another time zone is still the current date.
	if err := yearOf([]byte("Thu Dec 31 23:00:00 2026"), time.Date(2027, 1, 1, 5, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("a year a few hours behind: %v", err)
	}
}
