package ftp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	contract "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/loadgen/loadgentest"
)

// fakeFTP is a minimal FTP server for the load client's own tests: it
// logs anyone in, answers SIZE with size and sends send bytes on each
// passive data connection.
func fakeFTP(t *testing.T, size, send int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go fakeSession(c, size, send)
		}
	}()
	return l.Addr().String()
}

func fakeSession(c net.Conn, size, send int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprint(c, "220-fake\r\n220 ready\r\n")
	var dl net.Listener
	defer func() {
		if dl != nil {
			dl.Close()
		}
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch verb {
		case "USER":
			fmt.Fprint(c, "331 pw\r\n")
		case "PASS":
			fmt.Fprint(c, "230 in\r\n")
		case "TYPE":
			fmt.Fprint(c, "200 ok\r\n")
		case "SIZE":
			fmt.Fprintf(c, "213 %d\r\n", size)
		case "EPSV":
			dl, _ = net.Listen("tcp", "127.0.0.1:0")
			fmt.Fprintf(c, "229 Entering Extended Passive Mode (|||%d|)\r\n", dl.Addr().(*net.TCPAddr).Port)
		case "RETR":
			d, err := dl.Accept()
			dl.Close()
			dl = nil
			if err != nil {
				return
			}
			fmt.Fprint(c, "150 here\r\n")
			d.Write(make([]byte, send))
			d.Close()
			fmt.Fprint(c, "226 done\r\n")
		case "QUIT":
			fmt.Fprint(c, "221 bye\r\n")
			return
		default:
			fmt.Fprint(c, "502 no\r\n")
		}
	}
}

func TestLoadClientModes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       string
		size, send int
		bad        bool
	}{
		{"session", "session", 0, 0, false},
		{"retr", "retr", 100000, 100000, false},
		{"retr short", "retr", 100000, 99999, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeFTP(t, tc.size, tc.send)
			c, err := loadgen.LookupClient(loadContractName)
			if err != nil {
				t.Fatal(err)
			}
			load, err := c.Plan(map[string]string{"mode": tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			p, err := load.Open(loadgen.TCP(addr), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if tc.bad {
				res, err := loadgen.Run(t.Context(), loadgen.Config{Protocol: p, Connections: 2, Requests: 20})
				if err != nil {
					t.Fatal(err)
				}
				if res.Completed != 0 || res.Errors[loadgen.KindBadResponse] == 0 {
					t.Errorf("short transfers: completed %d, errors %v", res.Completed, res.Errors)
				}
				return
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Requests: 200})
			if res.Completed != 200 || res.ErrorCount() != 0 {
				t.Errorf("completed %d, errors %v", res.Completed, res.Errors)
			}
		})
	}
}

func TestLoadClientOptions(t *testing.T) {
	for _, o := range []LoadClientOptions{{}, {Addr: "127.0.0.1:1", Mode: "stor"}, {Addr: "127.0.0.1:1", File: "a\r\nDELE b"}} {
		if _, err := NewLoadClient(o); err == nil {
			t.Errorf("NewLoadClient(%+v) accepted bad options", o)
		}
	}
}

// TestLoadClientAgainstReference runs both loads against the reference
// server: every session and every transfer validated.
func TestLoadClientAgainstReference(t *testing.T) {
	root := t.TempDir()
	if err := contract.Write(root); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Root: root}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	c, err := loadgen.LookupClient(loadContractName)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"session", "retr"} {
		t.Run(mode, func(t *testing.T) {
			load, err := c.Plan(map[string]string{"mode": mode})
			if err != nil {
				t.Fatal(err)
			}
			p, err := load.Open(loadgen.TCP(l.Addr().String()), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Requests: 100})
			if res.Completed != 100 || res.ErrorCount() != 0 {
				t.Errorf("completed %d, errors %v", res.Completed, res.Errors)
			}
		})
	}
}
