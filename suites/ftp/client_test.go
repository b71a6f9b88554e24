package ftp

import "testing"

func TestParsePASV(t *testing.T) {
	for text, want := range map[string]string{
		"Entering Passive Mode (127,0,0,1,4,1).": "127.0.0.1:1025",
		"=127,0,0,1,200,10":                      "127.0.0.1:51210",
		"Entering Passive Mode 127,0,0,2,0,21":   "127.0.0.2:21",
	} {
		ap, err := parsePASV(text)
		if err != nil || ap.String() != want {
			t.Errorf("parsePASV(%q) = %v, %v; want %s", text, ap, err, want)
		}
	}
	for _, text := range []string{"Entering Passive Mode", "(127,0,0,1,256,1)", "(1,2,3,4,5)"} {
		if ap, err := parsePASV(text); err == nil {
			t.Errorf("parsePASV(%q) = %v, want an error", text, ap)
		}
	}
}

func TestParseEPSV(t *testing.T) {
	if p, err := parseEPSV("Entering Extended Passive Mode (|||6446|)"); err != nil || p != 6446 {
		t.Errorf("parseEPSV: %d, %v", p, err)
	}
	if p, err := parseEPSV("ok (!!!21!)"); err != nil || p != 21 {
		t.Errorf("parseEPSV with !: %d, %v", p, err)
	}
	for _, text := range []string{"(|||0|)", "(||6446|)", "(|!|6446|)", "(|||70000|)", "no port"} {
		if p, err := parseEPSV(text); err == nil {
			t.Errorf("parseEPSV(%q) = %d, want an error", text, p)
		}
	}
}

func TestQuoted(t *testing.T) {
	for line, want := range map[string]string{
		`257 "/usr/dm/pathname" directory created`: "/usr/dm/pathname",
		`257 "/usr/dm/foo""bar" directory created`: `/usr/dm/foo"bar`,
		`257 "/" is the current directory`:         "/",
	} {
		if got, ok := quoted(reply{code: 257, lines: []string{line}}); !ok || got != want {
			t.Errorf("quoted(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
	if _, ok := quoted(reply{code: 257, lines: []string{`257 /no/quotes`}}); ok {
		t.Error("quoted without quotes: ok")
	}
}

func TestFacts(t *testing.T) {
	fs, name, ok := facts("Type=file;Size=1830;Modify=19940916055648;Perm=r; hatch.c")
	if !ok || name != "hatch.c" || fs["type"] != "file" || fs["size"] != "1830" || fs["perm"] != "r" {
		t.Errorf("facts: %v %q %v", fs, name, ok)
	}
	if _, name, ok := facts("Type=file;Perm=r;  leading space"); !ok || name != " leading space" {
		t.Errorf("facts keeps the name's leading space: %q %v", name, ok)
	}
	for _, line := range []string{"-rw-r--r-- 1 bob bob 4 Jan 1 x", "Type=file;Size=1;"} {
		if _, _, ok := facts(line); ok {
			t.Errorf("facts(%q): ok", line)
		}
	}
}

func TestHostPortAndEPRT(t *testing.T) {
	ap, _ := parsePASV("(127,0,0,1,4,1)")
	if got := hostPort(ap); got != "127,0,0,1,4,1" {
		t.Errorf("hostPort: %s", got)
	}
	if got := eprtArg(ap); got != "|1|127.0.0.1|1025|" {
		t.Errorf("eprtArg: %s", got)
	}
}

func TestCRLF(t *testing.T) {
	if got := string(crlf([]byte("a\nb\n\n"))); got != "a\r\nb\r\n\r\n" {
		t.Errorf("crlf: %q", got)
	}
}
