package ftpfuzz

import (
	"strings"
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/fuzz/engine/enginetest"
)

// TestRegistered checks the model is registered under the contract's name.
func TestRegistered(t *testing.T) { enginetest.Registered[ftpModel](t, contractName) }

// FuzzModel feeds arbitrary bytes to the model's sessions, as what was
// sent and what came back, and to its mutator: nothing may panic, and
// Parse may never claim more bytes than it was given.
func FuzzModel(f *testing.F) {
	f.Add([]byte("USER bob\r\nPASS bob\r\n"), []byte("220 hi\r\n331 pw\r\n230 ok\r\n"), uint64(1))
	f.Add([]byte("FEAT\r\n"), []byte("211-Features:\r\n MDTM\r\n211 End\r\n"), uint64(2))
	f.Add([]byte("PASV\r\n"), []byte("227 Entering Passive Mode (127,0,0,1,4,1)\r\n"), uint64(3))
	f.Add([]byte("RETR x\r\n"), []byte("150 go\r\n226 done\r\n"), uint64(4))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		if err := engine.CheckModel(ftpModel{}, sent, got, seed); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		classes string // final replies' details, space-separated
		used    int
		bad     bool
	}{
		{in: "220 hi\r\n", classes: "220", used: 8},
		{in: "220-a\r\n b\r\n220-c\r\n220 end\r\n331", classes: "220", used: 27},
		{in: "150 go\r\n226 done\r\n", classes: "226", used: 18},
		{in: "150 go\r\n", classes: "", used: 8},
		{in: "200 ok\n500 no\r\n", classes: "200 500", used: 15},
		{in: "2000 ok\r\n", bad: true},
		{in: "hello\r\n", bad: true},
		{in: "620 x\r\n", bad: true},
		{in: "227 Entering Passive Mode (127,0,0,1,4,1)\r\n257 \"/a \"\"q\"\"\" is cwd\r\n", classes: "227 257", used: 66},
	} {
		s := &ftpSession{}
		resps, used, err := s.Parse([]byte(tc.in), false)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if tc.bad {
			continue
		}
		var got []string
		for _, r := range resps {
			got = append(got, r.Detail)
		}
		if strings.Join(got, " ") != tc.classes || used != tc.used {
			t.Errorf("%q: %v used %d, want %s used %d", tc.in, got, used, tc.classes, tc.used)
		}
		for _, r := range resps {
			if r.Detail == "227" && (r.Vars["pasv"] != "127.0.0.1:1025" || s.data != "127.0.0.1:1025") {
				t.Errorf("227 vars %v", r.Vars)
			}
			if r.Detail == "257" && r.Vars["cwd"] != `/a "q"` {
				t.Errorf("257 vars %v", r.Vars)
			}
		}
	}
}

func TestSent(t *testing.T) {
	s := &ftpSession{}
	if n, sure := s.Sent([]byte("USER " + seedUser + "\r\n")); n != 2 || !sure {
		t.Errorf("first command: %d %v, want greeting and reply, sure", n, sure)
	}
	if n, sure := s.Sent([]byte("PASS wrong\r\n")); n != 1 || sure {
		t.Errorf("wrong password: %d %v, want one reply, unsure (brute-force delay)", n, sure)
	}
	if n, _ := s.Sent([]byte("NOOP\r\nSY")); n != 1 {
		t.Errorf("a line and a half: %d", n)
	}
	if n, _ := s.Sent([]byte("ST\r\nQUIT\r\nNOOP\r\n")); n != 2 {
		t.Errorf("after QUIT: %d, want SYST and QUIT", n)
	}
}

func TestRender(t *testing.T) {
	b := string(ftpModel{}.Render(engine.Step{Data: []byte("PORT {{port}}\r\nEPRT {{eprt}}\r\nCWD {{cwd}}\r\n")}, map[string]string{"cwd": "/up"}))
	if !strings.HasPrefix(b, "PORT 127,0,0,1,") || !strings.Contains(b, "EPRT |1|127.0.0.1|") || !strings.Contains(b, "CWD /up\r\n") {
		t.Errorf("rendered %q", b)
	}
}

// TestLoopbackOnly: a PORT or EPRT naming an address off the machine is
// rewritten to another loopback address; loopback ones and unparsable
// ones are left as they are.
func TestLoopbackOnly(t *testing.T) {
	cases := map[string]string{
		"PORT 10,0,0,1,0,80\r\n":              "PORT 127,0,0,2,0,80\r\n",
		"eprt |1|192.0.2.7|2121|\r\nNOOP\r\n": "eprt |1|127.0.0.2|2121|\r\nNOOP\r\n",
		"EPRT |2|2001:db8::1|21|\r\n":         "EPRT |1|127.0.0.2|21|\r\n",
		"PORT 127,0,0,1,0,21\r\n":             "PORT 127,0,0,1,0,21\r\n",
		"PORT 1,2,3\r\n":                      "PORT 1,2,3\r\n",
		"RETR 10,0,0,1,0,80\r\n":              "RETR 10,0,0,1,0,80\r\n",
	}
	for in, want := range cases {
		if got := string(loopbackOnly([]byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
