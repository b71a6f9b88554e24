package targets

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// UnixUser is an account a server authenticates through the system's user
// database (getpwnam, getspnam, pam_unix), which a launcher adds to
// copies of /etc/passwd, /etc/shadow and /etc/group in its work directory
// (UsersOverlay) rather than to the host's.
type UnixUser struct {
	Name string
	// Password is the account's password; empty locks it ("!").
	Password string
	UID, GID int
	// Group, if set, is the name of the group GID: it replaces a host
	// group of that name, and is added unless the host has a group of
	// that number.
	Group string
	Home  string
	// Shell defaults to /bin/sh (a shell of /etc/shells, which PAM
	// stacks with pam_shells require).
	Shell string
}

// UsersOverlay writes copies of the host's /etc/passwd, /etc/shadow and
// /etc/group into dir with users in them (a host account of the same
// name is replaced, as is a host group of a user's Group name) and
// returns the Overlay that binds them over the host's files. The
// passwords are SHA-512 crypt(3) hashes ("$6$").
func UsersOverlay(dir string, users ...UnixUser) (Overlay, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names, groups := map[string]bool{}, map[string]bool{}
	for _, u := range users {
		names[u.Name] = true
		if u.Group != "" {
			groups[u.Group] = true
		}
	}
	var passwd, shadow, group []string
	for _, u := range users {
		salt, err := CryptSalt()
		if err != nil {
			return nil, err
		}
		passwd = append(passwd, fmt.Sprintf("%s:x:%d:%d:%s:%s:%s", u.Name, u.UID, u.GID, u.Name, u.Home, cmpOr(u.Shell, "/bin/sh")))
		hash := "!"
		if u.Password != "" {
			hash = SHA512Crypt(u.Password, salt)
		}
		shadow = append(shadow, fmt.Sprintf("%s:%s:19000:0:99999:7:::", u.Name, hash))
	}
	hostGroups := map[int]bool{}
	o := Overlay{}
	for _, f := range []struct {
		path  string
		mode  os.FileMode
		added *[]string
	}{{"/etc/group", 0o644, &group}, {"/etc/passwd", 0o644, &passwd}, {"/etc/shadow", 0o600, &shadow}} {
		host, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		var out []string
		sc := bufio.NewScanner(bytes.NewReader(host))
		for sc.Scan() {
			line := sc.Text()
			fields := strings.Split(line, ":")
			if f.path == "/etc/group" {
				if groups[fields[0]] {
					continue
				}
				if len(fields) > 2 {
					if gid, err := strconv.Atoi(fields[2]); err == nil {
						hostGroups[gid] = true
					}
				}
			} else if names[fields[0]] {
				continue
			}
			out = append(out, line)
		}
		if f.path == "/etc/group" {
			for _, u := range users {
				if u.Group != "" && !hostGroups[u.GID] {
					hostGroups[u.GID] = true
					group = append(group, fmt.Sprintf("%s:x:%d:", u.Group, u.GID))
				}
			}
		}
		out = append(out, *f.added...)
		p := filepath.Join(dir, filepath.Base(f.path))
		if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), f.mode); err != nil {
			return nil, err
		}
		o[f.path] = p
	}
	return o, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CryptSalt is 16 random characters of crypt(3)'s alphabet.
func CryptSalt() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = cryptAlphabet[b[i]&0x3f]
	}
	return string(b), nil
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// SHA512Crypt is the crypt(3) hash of password with salt (at most 16
// characters used) by Drepper's SHA-512 scheme with the default 5000
// rounds: "$6$salt$...", what `openssl passwd -6 -salt salt` prints and
// what glibc's crypt, pam_unix and the FTP servers' user files take.
func SHA512Crypt(password, salt string) string {
	if len(salt) > 16 {
		salt = salt[:16]
	}
	key, s := []byte(password), []byte(salt)
	sum := func(parts ...[]byte) []byte {
		h := sha512.New()
		for _, p := range parts {
			h.Write(p)
		}
		return h.Sum(nil)
	}
	b := sum(key, s, key)
	a := sha512.New()
	a.Write(key)
	a.Write(s)
	for n := len(key); n > 0; n -= 64 {
		a.Write(b[:min(n, 64)])
	}
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(b)
		} else {
			a.Write(key)
		}
	}
	da := a.Sum(nil)
	h := sha512.New()
	for range len(key) {
		h.Write(key)
	}
	dp := h.Sum(nil)
	p := repeatTo(dp, len(key))
	h = sha512.New()
	for range 16 + int(da[0]) {
		h.Write(s)
	}
	ss := repeatTo(h.Sum(nil), len(s))
	c := da
	for i := range 5000 {
		h := sha512.New()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(ss)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(nil)
	}
	var out strings.Builder
	out.WriteString("$6$" + salt + "$")
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for range n {
			out.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	// The bytes go out in groups (0,21,42), (22,43,1), (44,2,23),
	// (3,24,45), ...: each a rotation of (i, i+21, i+42), then byte 63.
	for i := range 21 {
		g := [3]int{i, i + 21, i + 42}
		r := i % 3
		enc(c[g[r]], c[g[(1+r)%3]], c[g[(2+r)%3]], 4)
	}
	enc(0, 0, c[63], 2)
	return out.String()
}

// repeatTo is d repeated to n bytes.
func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}
