package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/protospec/protospec/suites/spec"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readme is the repository's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeSection returns the lines of the README section under heading,
// up to the next heading of its level.
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	var out []string
	in := false
	for _, l := range strings.Split(readme(t), "\n") {
		if strings.HasPrefix(l, "## ") {
			if in {
				break
			}
			in = l == heading
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("README has no section %q", heading)
	}
	return out
}

// shellWords splits a command line as a POSIX shell does for the README's
// commands: words, single and double quotes, backslashes, and a comment
// from a "#" that starts a word.
func shellWords(line string) ([]string, string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, strings.TrimSpace(line[i+1:]), nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, "", fmt.Errorf("unclosed ' in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, "", fmt.Errorf("unclosed \" in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, "", nil
}

// loopbackPort matches the loopback addresses of the README's commands.
var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:([0-9]+)`)

// readmeServer is a `protospec serve` of the README, started on free ports.
type readmeServer struct {
	// base is the port the README gives it, actual the one it got.
	base, actual int
	// printed is the run line it printed ("protospec run ...").
	printed []string
}

// onPorts rewrites the README's ports of the server (base to base+9) to
// the ports it got.
func (s *readmeServer) onPorts(w string) string {
	return loopbackPort.ReplaceAllStringFunc(w, func(m string) string {
		p, _ := strconv.Atoi(m[len("127.0.0.1:"):])
		if p >= s.base && p < s.base+10 {
			return "127.0.0.1:" + strconv.Itoa(s.actual+p-s.base)
		}
		return m
	})
}

// startReadmeServer runs a README serve command with its --addr on a free
// port, and reads the run line it prints.
func startReadmeServer(t *testing.T, dir string, args []string) *readmeServer {
	t.Helper()
	args = slices.Clone(args)
	s := &readmeServer{}
	for i, a := range args {
		if a == "--addr" && i+1 < len(args) {
			m := loopbackPort.FindStringSubmatch(args[i+1])
			if m == nil {
				t.Fatalf("serve --addr %q: not a 127.0.0.1 address", args[i+1])
			}
			s.base, _ = strconv.Atoi(m[1])
			args[i+1] = "127.0.0.1:0"
		}
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "test it with: "); ok {
				line <- l
				break
			}
			log.WriteString(sc.Text() + "\n")
		}
		for sc.Scan() {
		}
	}()
	select {
	case l := <-line:
		words, _, err := shellWords(l)
		if err != nil {
			t.Fatalf("protospec %s printed %q: %v", strings.Join(args, " "), l, err)
		}
		s.printed = words
		s.actual = 1 << 16
		for _, m := range loopbackPort.FindAllStringSubmatch(l, -1) {
			p, _ := strconv.Atoi(m[1])
			s.actual = min(s.actual, p)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("protospec %s printed no run line within 30s", strings.Join(args, " "))
	}
	return s
}

// TestREADMEPairs runs the commands of the README's "A server and its
// suite" in order, as written, in a fresh directory: each serve stays up
// (on free ports, its README ports mapped to them), each run must begin
// with the line its serve printed and exit 0 (or as its comment says:
// "exit N"), every other command must exit 0.
func TestREADMEPairs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var server *readmeServer
	ran := map[string]int{}
	for _, l := range readmeSection(t, "## A server and its suite") {
		cmdline, ok := strings.CutPrefix(l, "    protospec ")
		if !ok {
			continue
		}
		words, comment, err := shellWords(cmdline)
		if err != nil {
			t.Fatal(err)
		}
		ran[words[0]+" "+words[1]]++
		if words[0] == "serve" {
			server = startReadmeServer(t, dir, words)
			continue
		}
		want := 0
		if m := regexp.MustCompile(`\bexit ([0-9])\b`).FindStringSubmatch(comment); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		if words[0] == "run" {
			if server == nil {
				t.Fatalf("%q: no serve before it", l)
			}
			for i := range words {
				words[i] = server.onPorts(words[i])
			}
			if len(words) < len(server.printed)-1 || !slices.Equal(words[:len(server.printed)-1], server.printed[1:]) {
				t.Errorf("README: %q\nis not what the serve before it printed (ports mapped): %s", l, strings.Join(server.printed, " "))
			}
		}
		cmd := exec.Command(binary, words...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(4 * time.Minute):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%q did not end within 4 minutes", l)
		}
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Errorf("README: %q exited %d, the README says %d\n%s", l, code, want, tail(out.String(), 30))
		}
	}
	for _, c := range []string{"serve echo", "run echo", "serve http1", "run http1", "serve dns", "run dns", "fixtures http1", "list echo"} {
		if ran[c] == 0 {
			t.Errorf("the README's section runs no %q", c)
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// TestREADMEProtocolTable checks that the README's protocol table lists
// every document each suite covers (the docs of `protospec list`).
func TestREADMEProtocolTable(t *testing.T) {
	t.Parallel()
	rows := map[string]string{}
	for _, l := range strings.Split(readme(t), "\n") {
		cells := strings.Split(l, "|")
		if len(cells) > 3 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = cells[2]
		}
	}
	for _, sp := range spec.Protocols() {
		p := sp.Name
		row, ok := rows[p]
		if !ok {
			t.Errorf("the README's protocol table has no row for %s", p)
			continue
		}
		r := protospec(t, "list", p, "--json")
		var specs []struct{ Doc string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &specs) != nil {
			t.Fatalf("list %s --json: exit %d\n%s", p, r.code, r.stderr)
		}
		docs := map[string]bool{}
		for _, s := range specs {
			docs[s.Doc] = true
		}
		flat := strings.ToLower(strings.ReplaceAll(row, " ", ""))
		for d := range docs {
			if num, ok := strings.CutPrefix(d, "rfc"); ok {
				if !regexp.MustCompile(`\b` + regexp.QuoteMeta(num) + `\b`).MatchString(row) {
					t.Errorf("the README's %s row does not list %s (RFC %s)", p, d, num)
				}
			} else if !strings.Contains(flat, d) {
				t.Errorf("the README's %s row does not list %s", p, d)
			}
		}
	}
}
