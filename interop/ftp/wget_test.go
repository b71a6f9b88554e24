package ftp

import (
	"path/filepath"
	"testing"
)

// TestWgetRecursive: wget fetches the public area recursively as
// anonymous (ftp:// -r: LIST each directory, RETR each file), in passive
// and in active mode (--no-passive-ftp); the copy is the fixture's pub/,
// byte for byte.
func TestWgetRecursive(t *testing.T) {
	wget := need(t, "wget")
	s := serve(t, false)
	for _, mode := range []struct {
		name string
		args []string
	}{{"passive", nil}, {"active", []string{"--no-passive-ftp"}}} {
		t.Run(mode.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"-q", "--tries=1", "--timeout=20", "-r", "-np", "-nH", "-P", out}, mode.args...)
			run(t, wget, append(args, s.url("", "pub/"))...)
			sameTree(t, filepath.Join(s.anon, "pub"), filepath.Join(out, "pub"), ".listing")
		})
	}
}
