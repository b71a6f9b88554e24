package http1

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	ihttp1 "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/protocol"
	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/reports"
)

func init() {
	pcap.Register(pcap.Protocol{
		Name:  ihttp1.Name,
		Title: "HTTP/1.x requests and responses, each response matched to its request",
		// The contract's port, then the usual alternative ports.
		Ports: append(pcap.ContractPorts(ihttp1.Contract), 591, 3128, 8000, 8008, 8080, 8888),
		Sniff: sniff,
		New: func(e *pcap.Emitter, udp bool) pcap.Dissector {
			if udp {
				return nil
			}
			return newDissector(e)
		},
		Rules: Rules,
		Replay: &pcap.Replayer{
			Params:     []protocol.Param{{Name: paramIgnoreHeader, Doc: "HTTP header fields not compared, comma-separated (Date, Server, Age always; Set-Cookie values never)"}},
			IgnoreKeys: []string{ignoreBody},
			Interim: func(m *pcap.Message) bool {
				i := InfoOf(m)
				return i != nil && i.Status < 200
			},
			Compare: compare,
		},
		Synth: Synth,
	})
}

var httpMethods = []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH "}

// sniff recognises a request line's method or a status line's version.
func sniff(side pcap.Side, udp bool, b, _ []byte) bool {
	if udp {
		return false
	}
	if side == pcap.Server {
		return bytes.HasPrefix(b, []byte("HTTP/1."))
	}
	if isH2Preface(b) {
		return false
	}
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, []byte(m)) {
			return true
		}
	}
	return false
}

func isHTTP(m *pcap.Message) bool     { return InfoOf(m) != nil }
func isRequest(m *pcap.Message) bool  { return isHTTP(m) && m.Side == pcap.Client }
func isResponse(m *pcap.Message) bool { return isHTTP(m) && m.Side == pcap.Server }

// Rules are the offline checks of HTTP/1.x (pcap check); the dissector
// finds their violations while framing.
var Rules = []pcap.Rule{
	{ID: ruleRequestLine, Level: reports.LevelMust, Title: "a request-line is method SP request-target SP HTTP-version", Applies: isRequest},
	{ID: ruleHost, Level: reports.LevelMust, Title: "an HTTP/1.1 request has a Host header field", Applies: func(m *pcap.Message) bool { return isRequest(m) && InfoOf(m).Version == "HTTP/1.1" }},
	{ID: ruleStatusLine, Level: reports.LevelMust, Title: "a status-line is HTTP-version SP 3DIGIT SP reason-phrase", Applies: isResponse},
	{ID: ruleFieldLine, Level: reports.LevelMust, Title: "a field line is a token, a colon and a value", Applies: isHTTP},
	{ID: ruleNoSpaceColon, Level: reports.LevelMust, Title: "no whitespace between a field name and the colon", Applies: isHTTP},
	{ID: ruleNoObsFold, Level: reports.LevelMust, Title: "a sender does not fold field lines (obs-fold)", Applies: isHTTP},
	{ID: ruleCLWithTE, Level: reports.LevelMust, Title: "no Content-Length in a message with Transfer-Encoding", Applies: isHTTP},
	{ID: ruleRequestChunked, Level: reports.LevelMust, Title: "a request's Transfer-Encoding ends in chunked", Applies: isRequest},
	{ID: ruleValidCL, Level: reports.LevelMust, Title: "Content-Length is one valid decimal length", Applies: isHTTP},
	{ID: ruleBodyComplete, Level: reports.LevelMust, Title: "the body is as long as Content-Length says", Applies: func(m *pcap.Message) bool {
		return isHTTP(m) && InfoOf(m).ContentLength > 0 && !InfoOf(m).NoBody
	}},
	{ID: ruleChunked, Level: reports.LevelMust, Title: "a chunked body follows the chunked coding's syntax", Applies: func(m *pcap.Message) bool { return isHTTP(m) && InfoOf(m).Chunked }},
	{ID: ruleNoBodyAfter, Level: reports.LevelMust, Title: "a response to HEAD, and a 1xx, 204 or 304 response, has no body", Applies: isResponse},
	{ID: ruleResponseRequest, Level: reports.LevelMust, Title: "every response answers a request, in order", Applies: isResponse},
	{ID: ruleCL1xx204, Level: reports.LevelMust, Title: "no Content-Length in a 1xx or 204 response", Applies: func(m *pcap.Message) bool {
		return isResponse(m) && (InfoOf(m).Status == 204 || (InfoOf(m).Status >= 100 && InfoOf(m).Status < 200))
	}},
}

// The replay's param and the part it may leave out.
const (
	paramIgnoreHeader = "ignore-header"
	ignoreBody        = "http.body"
)

// comparer compares replayed responses with recorded ones: status, header
// fields (but those ignored), body.
type comparer struct {
	p       *pcap.ReplayParams
	ignored map[string]bool
}

func compare(p *pcap.ReplayParams) (func(q, want *pcap.Message, got []byte) string, error) {
	c := &comparer{p: p, ignored: map[string]bool{"date": true, "server": true, "age": true}}
	for _, h := range strings.Split(p.Get(paramIgnoreHeader), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.ignored[strings.ToLower(h)] = true
		}
	}
	return func(q, want *pcap.Message, got []byte) string { return c.diff(want.Raw, got, q) }, nil
}

// parseResponse reads the final response (or, without one, the first
// response) from raw bytes with the observers' codec.
func parseResponse(raw []byte, head bool) *wire.Message {
	d := wire.NewResponseDecoder(wire.Limits{MaxBody: int64(len(raw)) + 1})
	if head {
		d.Expect("HEAD")
	} else {
		d.Expect("GET")
	}
	d.Feed(raw)
	d.Close()
	var out *wire.Message
	for {
		m, ok := d.Next()
		if !ok {
			return out
		}
		if m.Status >= 200 || out == nil {
			out = m
		}
		if m.Status >= 200 {
			return out
		}
	}
}

func (c *comparer) diff(wantRaw, gotRaw []byte, q *pcap.Message) string {
	head := InfoOf(q) != nil && InfoOf(q).Method == "HEAD"
	want, got := parseResponse(wantRaw, head), parseResponse(gotRaw, head)
	if want == nil || got == nil {
		if !bytes.Equal(wantRaw, gotRaw) {
			return fmt.Sprintf("recorded: %s\nreplayed: %s", pcap.Excerpt(wantRaw, 200), pcap.Excerpt(gotRaw, 200))
		}
		return ""
	}
	w, g := want, got
	if w.Status != g.Status {
		return fmt.Sprintf("status: recorded %d %s / replayed %d %s", w.Status, w.Reason, g.Status, g.Reason)
	}
	ignored := c.ignored
	norm := func(h *wire.Message) map[string][]string {
		out := map[string][]string{}
		for _, f := range h.Header {
			name := strings.ToLower(f.Name)
			if ignored[name] {
				continue
			}
			v := f.Value
			if name == "set-cookie" {
				v, _, _ = strings.Cut(v, "=") // the cookie's name, not its value
			}
			if name == "content-length" && c.p.Ignores(ignoreBody) {
				continue
			}
			out[name] = append(out[name], v)
		}
		for _, vs := range out {
			sort.Strings(vs)
		}
		return out
	}
	wh, gh := norm(w), norm(g)
	var names []string
	for n := range wh {
		names = append(names, n)
	}
	for n := range gh {
		if _, ok := wh[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		a, b := strings.Join(wh[n], ", "), strings.Join(gh[n], ", ")
		switch {
		case wh[n] == nil:
			return fmt.Sprintf("header %s: not recorded / replayed %q (use --ignore-header %s)", n, b, n)
		case gh[n] == nil:
			return fmt.Sprintf("header %s: recorded %q / not replayed (use --ignore-header %s)", n, a, n)
		case a != b:
			return fmt.Sprintf("header %s: recorded %q / replayed %q (use --ignore-header %s)", n, a, b, n)
		}
	}
	if !c.p.Ignores(ignoreBody) {
		wb, gb := want.Body, got.Body
		if !bytes.Equal(wb, gb) {
			i := 0
			for i < len(wb) && i < len(gb) && wb[i] == gb[i] {
				i++
			}
			return fmt.Sprintf("body (%d vs %d bytes) differs at byte %d: recorded %s / replayed %s", len(wb), len(gb), i, pcap.Excerpt(wb[i:], 60), pcap.Excerpt(gb[i:], 60))
		}
	}
	return ""
}
