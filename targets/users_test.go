package targets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSHA512Crypt compares with `openssl passwd -6 -salt S P`.
func TestSHA512Crypt(t *testing.T) {
	for _, c := range []struct{ pw, salt, want string }{
		{"bob", "saltsaltsalt", "$6$saltsaltsalt$FhRwN0vUttBfeJitlLICFlRdpwu9RzjBHs/HIg4XFVU1qpzqZIpDdgVFIR7j/m/Ot/KXf54BcsdqJlFjnAKJC0"},
		{"a very long password of more than sixty-four bytes, to cover every branch ok", "abcdefghijklmnopqrst",
			"$6$abcdefghijklmnop$zrx195ioNn5vzCKsKY8HfZRu0YrA7AmdcQXI7QpEpzUvzq9s5ix//o7MgWHrY9.GcuVFbvEpLlDTLthDCfUi9/"},
	} {
		if got := SHA512Crypt(c.pw, c.salt); got != c.want {
			t.Errorf("SHA512Crypt(%q, %q) = %s, want %s", c.pw, c.salt, got, c.want)
		}
	}
}

// TestUsersOverlay: the copies keep the host's accounts, replace one of
// the same name and add the users with a hash of their password.
func TestUsersOverlay(t *testing.T) {
	if _, err := os.ReadFile("/etc/shadow"); err != nil {
		t.Skipf("cannot read the host's shadow file: %v", err)
	}
	dir := t.TempDir()
	o, err := UsersOverlay(dir, UnixUser{Name: "root", Password: "x", UID: 0, GID: 0, Home: "/root"},
		UnixUser{Name: "protospecuser", Password: "pw", UID: 60123, GID: 60123, Group: "protospecgroup", Home: "/srv/x"},
		UnixUser{Name: "protospeclocked", UID: 60124, GID: 60124, Group: "root", Home: "/srv/x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o) != 3 || o["/etc/passwd"] != filepath.Join(dir, "passwd") {
		t.Fatalf("overlay %v", o)
	}
	passwd, _ := os.ReadFile(o["/etc/passwd"])
	if strings.Count("\n"+string(passwd), "\nroot:") != 1 || !strings.Contains(string(passwd), "protospecuser:x:60123:60123:protospecuser:/srv/x:/bin/sh\n") {
		t.Errorf("passwd:\n%s", passwd)
	}
	shadow, _ := os.ReadFile(o["/etc/shadow"])
	for _, line := range strings.Split(string(shadow), "\n") {
		if name, rest, _ := strings.Cut(line, ":"); name == "protospecuser" {
			hash, _, _ := strings.Cut(rest, ":")
			salt := strings.Split(hash, "$")[2]
			if hash != SHA512Crypt("pw", salt) {
				t.Errorf("shadow line %q", line)
			}
		}
	}
	if !strings.Contains(string(shadow), "\nprotospeclocked:!:") {
		t.Errorf("an account without a password is not locked:\n%s", shadow)
	}
	group, _ := os.ReadFile(o["/etc/group"])
	if !strings.Contains(string(group), "protospecgroup:x:60123:\n") || strings.Count("\n"+string(group), "\nroot:") != 1 || !strings.Contains(string(group), "\nroot:x:60124:\n") {
		t.Errorf("group:\n%s", group)
	}
	if fi, _ := os.Stat(o["/etc/shadow"]); fi.Mode().Perm() != 0o600 {
		t.Errorf("shadow mode %v", fi.Mode())
	}
}
