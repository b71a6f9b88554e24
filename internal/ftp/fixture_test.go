package ftp

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	// Twice: a launcher may write over an old tree.
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, home := range []string{AnonymousHome, BobHome} {
		for _, f := range Files {
			p := filepath.Join(dir, home, filepath.FromSlash(f.Path))
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, f.Content) {
				t.Errorf("%s: content differs", p)
			}
			st, _ := os.Stat(p)
			if !st.ModTime().Equal(ModTime) {
				t.Errorf("%s: mtime %v, want %v", p, st.ModTime(), ModTime)
			}
		}
	}
	if st, err := os.Stat(filepath.Join(dir, BobHome, "upload")); err != nil || !st.IsDir() {
		t.Errorf("no upload dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, AnonymousHome, "upload")); err == nil {
		t.Errorf("the anonymous root has an upload dir")
	}
	users, err := os.ReadFile(filepath.Join(dir, UsersFile))
	if err != nil || !strings.Contains(string(users), "bob:bob:bob\n") {
		t.Errorf("users file: %q %v", users, err)
	}
	if strings.Contains(TextContent, "\r") || !strings.Contains(TextContent, "\n\n") {
		t.Errorf("TextContent must have LF line ends and an empty line")
	}
	if Write("") == nil {
		t.Errorf("Write(\"\") succeeded")
	}
}

func TestIPv6Addr(t *testing.T) {
	if got := IPv6Addr("127.0.0.1:2121"); got != "[::1]:2121" {
		t.Errorf("IPv6Addr = %q", got)
	}
}
