package smtp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	contract "github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/pcap/smtp"
	smtpref "github.com/protospec/protospec/reference/smtp"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// startReference serves reference/smtp over a fresh fixture store on a
// loopback port, with STARTTLS, until the test ends; it returns the
// address, the TLS fixture and the server as a replay target.
func startReference(t *testing.T) (string, *tlsfixture.Fixture, targets.Target) {
	t.Helper()
	dir := t.TempDir()
	pcaptest.Must(t, contract.WriteFixture(dir))
	st, err := mailstore.Open(dir, 0)
	pcaptest.Must(t, err)
	fx, err := tlsfixture.New()
	pcaptest.Must(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	pcaptest.Must(t, err)
	srv := &smtpref.Server{Store: st, TLSConfig: fx.ServerConfig(), CommandTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	addr := l.Addr().String()
	return addr, fx, &targets.Static{TargetName: "reference", Kind: "reference",
		Endpoints: map[string]targets.Endpoint{contract.ServiceTCP: {Network: "tcp", Addr: addr}}}
}

// client is a raw SMTP client of the tests.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialClient(t *testing.T, addr string) *client {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	pcaptest.Must(t, err)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	k := &client{t: t, c: c, r: bufio.NewReader(c)}
	k.expect("220")
	return k
}

// reply reads one whole reply and returns its last line.
func (k *client) reply() string {
	for {
		l, err := k.r.ReadString('\n')
		if err != nil {
			k.t.Fatalf("reading a reply: %v", err)
		}
		if len(l) < 4 || l[3] != '-' {
			return l
		}
	}
}

func (k *client) expect(code string) {
	k.t.Helper()
	if l := k.reply(); !strings.HasPrefix(l, code) {
		k.t.Fatalf("got %q, want %s", l, code)
	}
}

func (k *client) send(s string) {
	k.t.Helper()
	if _, err := io.WriteString(k.c, s); err != nil {
		k.t.Fatal(err)
	}
}

func (k *client) cmd(line, code string) {
	k.t.Helper()
	k.send(line + "\r\n")
	k.expect(code)
}

// text is the message the sessions send, stuffed on the wire.
const text = "From: <alice@alice.test>\r\nTo: <bob@bob.test>\r\nSubject: pcap\r\n\r\nhello\r\n.one period\r\n..two\r\n.\r\nend\r\n"

func stuffed(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\r\n") {
		if strings.HasPrefix(l, ".") {
			b.WriteByte('.')
		}
		b.WriteString(l)
	}
	return b.String() + ".\r\n"
}

// record runs three real sessions with the reference through the
// recording proxy: a transaction step by step with VRFY, HELP and RSET;
// a pipelined one (RFC 2920); and a STARTTLS with a real handshake and
// an EHLO over TLS.
func record(t *testing.T, addr string, fx *tlsfixture.Fixture) []byte {
	return pcaptest.Record(t, addr, false, func(proxy string) {
		k := dialClient(t, proxy)
		k.cmd("EHLO client.test", "250")
		k.cmd("MAIL FROM:<alice@alice.test>", "250")
		k.cmd("RCPT TO:<bob@bob.test>", "250")
		k.cmd("RCPT TO:<alice@alice.test>", "250")
		k.cmd("DATA", "354")
		k.send(stuffed(text))
		k.expect("250")
		k.cmd("RSET", "250")
		k.cmd("VRFY bob", "252")
		k.cmd("HELP", "214")
		k.cmd("NOOP", "250")
		k.cmd("QUIT", "221")
		k.c.Close()

		k = dialClient(t, proxy)
		k.cmd("EHLO client.test", "250")
		k.send("MAIL FROM:<alice@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nRCPT TO:<nobody-protospec@bob.test>\r\nDATA\r\n")
		for _, c := range []string{"250", "250", "550", "354"} {
			k.expect(c)
		}
		k.send(stuffed("Subject: piped\r\n\r\nx\r\n"))
		k.expect("250")
		k.cmd("QUIT", "221")
		k.c.Close()

		k = dialClient(t, proxy)
		k.cmd("EHLO client.test", "250")
		k.cmd("STARTTLS", "220")
		tc := tls.Client(k.c, &tls.Config{RootCAs: fx.Pool(), ServerName: "localhost"})
		pcaptest.Must(t, tc.Handshake())
		k.c, k.r = tc, bufio.NewReader(tc)
		k.cmd("EHLO client.test", "250")
		k.cmd("QUIT", "221")
		tc.Close()
	})
}

// TestRecordedSessions dissects real sessions with the reference: every
// reply answers its command, the multi-line ones are one message each,
// the text is one message of its unstuffed size answered by the 250, a
// pipelined group is one message per command, the STARTTLS flow turns to
// TLS after the 220, and nothing breaks a rule.
func TestRecordedSessions(t *testing.T) {
	addr, fx, _ := startReference(t)
	data := record(t, addr, fx)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	da, err := pcap.ParseDecodeAs([]string{port + "=smtp"})
	pcaptest.Must(t, err)
	for _, o := range []pcap.Options{{DecodeAs: da}, {}} { // by port, then by sniffing
		_, msgs, flows := pcaptest.Analyze(t, data, o)
		if len(flows) != 3 {
			t.Fatalf("%d flows", len(flows))
		}
		for _, f := range flows {
			if f.Proto != "smtp" {
				t.Fatalf("flow %d: proto %q", f.ID, f.Proto)
			}
		}
		byFlow := map[int][]*pcap.Message{}
		for _, m := range msgs {
			byFlow[m.Flow] = append(byFlow[m.Flow], m)
			if len(m.Problems) > 0 {
				t.Errorf("%v: problems in a clean capture", m)
			}
			if m.Side == pcap.Server && m.N > 0 && m.Peer == nil && !smtp.InfoOf(m).TLS {
				t.Errorf("%v answers nothing", m)
			}
		}
		f1, f2, f3 := byFlow[flows[0].ID], byFlow[flows[1].ID], byFlow[flows[2].ID]
		// Flow 1.
		var textMsg *pcap.Message
		ehlo, help := false, false
		for _, m := range f1 {
			in := smtp.InfoOf(m)
			switch {
			case in.Text != nil:
				textMsg = m
				if in.Text.Size != int64(len(text)) || in.Text.Stuffed != 3 || in.Text.Lines != 9 || m.Len != int64(len(stuffed(text))) {
					t.Errorf("text %+v len %d, want size %d, 3 stuffed, 9 lines, %d on the wire", in.Text, m.Len, len(text), len(stuffed(text)))
				}
			case in.Reply != nil && in.Reply.Multi && smtp.CommandOf(m.Peer).Verb == "EHLO":
				ehlo = len(in.Reply.Lines) >= 5 && in.Reply.Code == 250
			case in.Reply != nil && in.Reply.Multi && smtp.CommandOf(m.Peer).Verb == "HELP":
				help = in.Reply.Code == 214
			case in.Reply != nil && m.Peer == textMsg && textMsg != nil:
				if in.Reply.Code != 250 || in.Reply.Enhanced != "2.0.0" {
					t.Errorf("the text answered %+v", in.Reply)
				}
				textMsg = nil
			}
		}
		if !ehlo || !help || textMsg != nil {
			t.Errorf("flow 1: multi-line EHLO %v, HELP %v, text answered %v\n%s", ehlo, help, textMsg == nil, strings.Join(pcaptest.Summaries(f1), "\n"))
		}
		// Flow 2: the pipelined commands, one message each, answered in order.
		got := strings.Join(pcaptest.Summaries(f2), "\n")
		for _, want := range []string{
			`-> client#1 "MAIL FROM:<alice@alice.test>"`, `-> client#3 "RCPT TO:<nobody-protospec@bob.test>"`, `-> client#4 "DATA"`,
			`<- server#4 "550 5.1.1 No such user here" (answers #3)`, `<- server#5 "354 End data with <CR><LF>.<CR><LF>" (answers #4)`,
			`-> client#5 message text: 21 octets, 3 lines`, `(answers #5)`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("flow 2 lacks %s:\n%s", want, got)
			}
		}
		// Flow 3: TLS after the 220 to STARTTLS.
		got = strings.Join(pcaptest.Summaries(f3), "\n")
		tlsMsgs := 0
		for _, m := range f3 {
			in := smtp.InfoOf(m)
			if in.StartTLS && smtp.CommandOf(m.Peer).Verb != "STARTTLS" {
				t.Errorf("StartTLS on %v", m)
			}
			if in.TLS {
				tlsMsgs++
				if !m.Truncated || m.Len < 100 {
					t.Errorf("TLS message %v", m)
				}
			}
		}
		if tlsMsgs != 2 || !strings.Contains(got, "(TLS from here)") {
			t.Errorf("flow 3:\n%s", got)
		}
	}
	// The replay to a fresh reference: the plain flows answer as
	// recorded, the TLS one is not replayed.
	_, _, ref := startReference(t)
	r, err := pcap.Open(bytes.NewReader(data))
	pcaptest.Must(t, err)
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: da}, 0)
	pcaptest.Must(t, err)
	run := pcap.Replay(context.Background(), convs, pcap.ReplayOptions{Open: pcaptest.Fixed(ref), StepTimeout: 5 * time.Second})
	states := []string{}
	for _, sp := range run.Specs {
		states = append(states, sp.State)
		if sp.State == reports.StateFailed {
			t.Errorf("%s: %s", sp.ID, sp.Message)
		}
	}
	if strings.Join(states, " ") != "passed passed skipped" {
		t.Errorf("replay: %v", states)
	}
}

var (
	cli = pcaptest.Addr("127.0.0.1:40000")
	srv = pcaptest.Addr("127.0.0.1:25")
)

// synth writes one flow: the greeting, then pairs of client bytes and
// server bytes (either may be empty).
func synth(t *testing.T, pairs ...string) []byte {
	return pcaptest.Capture(t, func(w *pcap.Writer) {
		ts := pcaptest.T0
		tc := w.TCP(cli, srv, "")
		pcaptest.Must(t, tc.Handshake(ts))
		pcaptest.Must(t, tc.Data(ts, false, []byte("220 mx.test ESMTP\r\n")))
		for i := 0; i+1 < len(pairs); i += 2 {
			for k, side := range []bool{true, false} {
				if pairs[i+k] != "" {
					ts = ts.Add(time.Millisecond)
					pcaptest.Must(t, tc.Data(ts, side, []byte(pairs[i+k])))
				}
			}
		}
		pcaptest.Must(t, tc.Close(ts.Add(time.Millisecond)))
	})
}

func TestChecks(t *testing.T) {
	bad := synth(t,
		"EHLO c\n", "250-mx\r\n251 odd\r\n",
		"RCPT TO:<bob@bob.test>\r\n", "250 2.1.5 ok\r\n",
		"MAIL FROM:<a@alice.test>\r\n", "25x broken\r\n",
		"NOOP\r\n", "250 5.0.0 ok\n",
		"QUIT now\r\n", "250 2.0.0 not closing\r\n",
		"DATA\r\nSubject: x\r\n\r\nbare\nlf\r\n.\r\n", "",
		"", "354 go\r\n",
		"", "250 queued\r\n",
	)
	st := pcaptest.States(pcaptest.Check(t, bad))
	for id, want := range map[string]string{
		smtp.RuleReplyGrammar:  reports.StateFailed,
		smtp.RuleLineEnd:       reports.StateFailed,
		smtp.RuleReplyLineEnd:  reports.StateFailed,
		smtp.RuleTextLineEnd:   reports.StateFailed,
		smtp.RuleClientOrder:   reports.StateFailed,
		smtp.RuleServerOrder:   reports.StateFailed,
		smtp.RuleWait354:       reports.StateFailed,
		smtp.RuleEnhancedClass: reports.StateFailed,
		smtp.RuleReplyCode:     reports.StateFailed,
	} {
		if st[id].State != want {
			t.Errorf("%s: %s (%s), want %s", id, st[id].State, st[id].Message, want)
		}
	}
	good := synth(t,
		"EHLO c\r\n", "250-mx\r\n250 PIPELINING\r\n",
		"MAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\n", "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n",
		stuffed("Subject: x\r\n\r\n.\r\n"), "250 2.0.0 queued\r\n",
		"QUIT\r\n", "221 2.0.0 bye\r\n",
	)
	run := pcaptest.Check(t, good)
	for _, sp := range run.Specs {
		if strings.HasPrefix(sp.ID, "smtp/") && sp.State != reports.StatePassed {
			t.Errorf("clean capture: %s %s: %s", sp.ID, sp.State, sp.Message)
		}
	}
}

// TestDataRefused: after a DATA answered 503, what the client sent is
// commands again.
func TestDataRefused(t *testing.T) {
	data := synth(t, "EHLO c\r\n", "250 mx\r\n", "DATA\r\n", "503 5.5.1 no\r\n", "NOOP\r\n", "250 2.0.0 ok\r\n")
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	if !strings.Contains(got, `-> client#2 "NOOP"`) || !strings.Contains(got, `"250 2.0.0 ok" (answers #2)`) {
		t.Errorf("got\n%s", got)
	}
}

// TestBDAT: a BDAT and its chunk are one message, answered by the
// reply after it; the chunk may hold anything, CRLF.CRLF included.
func TestBDAT(t *testing.T) {
	data := synth(t, "EHLO c\r\nMAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\n", "250 mx\r\n250 ok\r\n250 ok\r\n",
		"BDAT 7\r\nab\r\n.\r\nBDAT 3 LAST\r\nxyz", "250 2.0.0 7 octets\r\n250 2.0.0 queued\r\n",
		"QUIT\r\n", "221 bye\r\n")
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	var chunks []string
	for _, m := range msgs {
		if in := smtp.InfoOf(m); in != nil && in.Chunk != nil {
			chunks = append(chunks, fmt.Sprintf("%d/%d/%v", in.Chunk.Size, in.Chunk.Got, in.Chunk.Last))
		}
		if len(m.Problems) > 0 {
			t.Errorf("%v", m)
		}
	}
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	if strings.Join(chunks, " ") != "7/7/false 3/3/true" || !strings.Contains(got, `"250 2.0.0 queued" (answers #4)`) || !strings.Contains(got, `-> client#5 "QUIT"`) {
		t.Errorf("chunks %v\n%s", chunks, got)
	}
}

// TestSmuggledEnd: "\n.\n" and "\n.\r\n" do not end the text (RFC 5321
// 4.1.1.4: the end is <CRLF>.<CRLF>), and the line after them is text.
func TestSmuggledEnd(t *testing.T) {
	data := synth(t, "EHLO c\r\nMAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\n", "250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"a\n.\nMAIL FROM:<x@relay.invalid>\n.\r\nb\r\n.\r\n", "554 5.6.0 bare LF\r\n")
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	n := 0
	for _, m := range msgs {
		if in := smtp.InfoOf(m); in != nil && in.Text != nil {
			n++
			if !in.Text.BareLF || in.Text.Lines != 2 {
				t.Errorf("text %+v", in.Text)
			}
		}
		if in := smtp.InfoOf(m); in != nil && in.Command != nil && strings.Contains(in.Command.Arg, "relay.invalid") {
			t.Errorf("smuggled command read as one: %v", m)
		}
	}
	if n != 1 {
		t.Errorf("%d texts\n%s", n, strings.Join(pcaptest.Summaries(msgs), "\n"))
	}
}

func TestSniff(t *testing.T) {
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		tc := w.TCP(cli, pcaptest.Addr("127.0.0.1:2525"), "")
		pcaptest.Must(t, tc.Handshake(pcaptest.T0))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("220-mx.test ESMTP Postfix\r\n220 go\r\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("QUIT\r\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("221 2.0.0 bye\r\n")))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
	})
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	want := "flow 1 <- server#0 \"220-mx.test ESMTP Postfix\" (+1 lines)\n" +
		"flow 1 -> client#0 \"QUIT\"\n" +
		"flow 1 <- server#1 \"221 2.0.0 bye\" (answers #0)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestReplayDiffers replays a recorded session to a server that refuses
// every recipient: the flow fails, naming the reply that differs.
func TestReplayDiffers(t *testing.T) {
	addr, fx, _ := startReference(t)
	data := record(t, addr, fx)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	pcaptest.Must(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				io.WriteString(c, "220 fake ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch v := strings.ToUpper(strings.Fields(line + " x")[0]); v {
					case "RCPT":
						io.WriteString(c, "550 5.1.1 no\r\n")
					case "QUIT":
						io.WriteString(c, "221 bye\r\n")
						return
					case "DATA":
						io.WriteString(c, "554 5.5.1 no valid recipients\r\n")
					default:
						io.WriteString(c, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	fake := &targets.Static{TargetName: "fake", Endpoints: map[string]targets.Endpoint{contract.ServiceTCP: {Network: "tcp", Addr: l.Addr().String()}}}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	da, _ := pcap.ParseDecodeAs([]string{port + "=smtp"})
	r, err := pcap.Open(bytes.NewReader(data))
	pcaptest.Must(t, err)
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: da}, 0)
	pcaptest.Must(t, err)
	run := pcap.Replay(context.Background(), convs, pcap.ReplayOptions{Open: pcaptest.Fixed(fake), StepTimeout: 3 * time.Second})
	if len(run.Specs) != 3 || run.Specs[0].State != reports.StateFailed || !strings.Contains(run.Specs[0].Message, "replayed: 550 5.1.1 no") {
		for _, sp := range run.Specs {
			t.Logf("%s %s: %s", sp.ID, sp.State, sp.Message)
		}
		t.Fatal("the replay to a server that refuses the recipients did not fail on RCPT")
	}
}
