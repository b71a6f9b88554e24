package reports

import (
	"time"
)

// evilMessage holds everything a report must render as inert text: markup,
// a CDATA end, quotes, a control byte, invalid UTF-8, backticks, a URL.
const evilMessage = "expected \"hello\" back, got <script>alert(1)</script> ]]> & more\x01\xff\n" +
	"second line with ``` fences and https://evil.example/x.js\n"

// testRun is a conformance run with every state, several documents,
// sections and levels, and hostile text.
func testRun() *Run {
	started := time.Date(2025, 3, 4, 5, 6, 7, 8000, time.UTC)
	return &Run{
		Schema:   SchemaVersion,
		Tool:     Tool{Name: "protospec", Version: "v0.1.0", Go: "go1.26"},
		Kind:     KindConformance,
		Protocol: "echo",
		Target: Target{
			Name: "xinetd", Kind: "launcher", Version: "2.3.15",
			Endpoints: map[string]string{"echo/udp": "127.0.0.1:7001", "echo/tcp": "127.0.0.1:7000"},
		},
		Started:  started,
		Duration: 1234567 * time.Microsecond,
		Filter:   "rfc862 && must",
		Notes:    []string{"xinetd log: started <ok>"},
		Specs: []Spec{
			{
				ID: "echo/rfc862/tcp/echoes-bytes", Protocol: "echo", Doc: "rfc862", Section: "tcp",
				Level: LevelMust, Title: "echoes every byte it receives", State: StatePassed,
				Duration: 12 * time.Millisecond,
				Transcript: []Event{
					{At: 0, Conn: "tcp#1", Dir: DirOpen, Data: "127.0.0.1:7000"},
					{At: 12345 * time.Microsecond, Conn: "tcp#1", Dir: DirSend, Len: 6, Data: `hello\n`},
					{At: 13 * time.Millisecond, Conn: "tcp#1", Dir: DirRecv, Len: 6, Data: `hello\n`},
					{At: 14 * time.Millisecond, Conn: "tcp#1", Dir: DirSend, Len: 4, Data: `\x00\xff\"<`},
				},
			},
			{
				ID: "echo/rfc862/tcp/after-half-close", Protocol: "echo", Doc: "rfc862", Section: "tcp",
				SectionTitle: "TCP Based Echo Service",
				Level:        LevelShould, Title: "keeps echoing after the client's half-close", State: StateFailed,
				Sentence: "Once a connection is established any data received is sent back.",
				Inferred: "RFC 862 predates RFC 2119",
				URL:      "https://www.rfc-editor.org/rfc/rfc862",
				File:     "suites/echo/rfc862.go", Line: 30,
				Message: evilMessage, Location: "suites/echo/rfc862.go:42",
				Duration: 2 * time.Second,
				Transcript: []Event{
					{At: time.Millisecond, Conn: "tcp#2", Dir: DirSend, Len: 5000, Data: `AAAA`, Truncated: true},
					{At: 2 * time.Millisecond, Conn: "tcp#2", Dir: DirRecv, Len: 1, Data: "<script>\x02"},
					{At: 3 * time.Millisecond, Conn: "tcp#2", Dir: DirNote, Data: "deadline ]]> reached"},
					{At: 4 * time.Millisecond, Conn: "tcp#2", Dir: DirClose},
				},
				Attachments: []Attachment{
					{Name: "capture", Path: "pcap/after-half-close.pcapng", MediaType: "application/vnd.tcpdump.pcap"},
					{Name: "remote", Path: "https://cdn.example/evil.js"},
				},
			},
			{
				ID: "echo/rfc862/tcp/half-close-ends", Protocol: "echo", Doc: "rfc862", Section: "tcp",
				Level: LevelMust, Title: "closes after the client closes", State: StateFailed, Known: true,
				KnownBy: "echo/rfc862/tcp/half-close-ends", KnownReason: "xinetd keeps <the> connection open",
				Message: "connection stayed open\nfor 5s", Duration: 5 * time.Second,
			},
			{
				ID: "echo/rfc862/udp/echoes-datagram", Protocol: "echo", Doc: "rfc862", Section: "udp",
				Level: LevelMust, Title: "echoes a datagram", State: StateError,
				Message: "panic: runtime error: index out of range", Duration: 3 * time.Millisecond,
			},
			{
				ID: "echo/rfc862/udp/large-datagram", Protocol: "echo", Doc: "rfc862", Section: "udp",
				Level: LevelMay, Title: "echoes a 64 KiB datagram", State: StateSkipped,
				Message: "target has no UDP endpoint",
			},
			{
				ID: "echo/uppercase/2.10/upper-utf8", Protocol: "echo", Doc: "uppercase", Section: "2.10",
				Level: LevelMay, Title: "upper-cases UTF-8 | pipes *stars*", State: StatePassed,
				Duration: time.Millisecond,
			},
			{
				ID: "echo/uppercase/2.9/upper-ascii", Protocol: "echo", Doc: "uppercase", Section: "2.9",
				Level: LevelShould, Title: "upper-cases ASCII", State: StatePassed,
				Duration: 500 * time.Microsecond,
			},
			{
				ID: "echo/uppercase/2.9/known-error", Protocol: "echo", Doc: "uppercase", Section: "2.9",
				Level: LevelShould, Title: "an error the baseline expects", State: StateError, Known: true,
				Message: "timeout",
			},
		},
	}
}

// testCounts is what testRun must count to.
var testCounts = struct{ total, passed, failed, errors, skipped, known int }{8, 3, 2, 2, 1, 2}
