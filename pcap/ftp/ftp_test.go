package ftp_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/ftp"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"
)

// The recorded captures: Python ftplib (from 127.0.0.7, 127.0.0.8)
// against vsftpd 3.0.3 and against the reference (`protospec serve ftp`)
// on 127.0.0.1; per session LIST, RETR, STOR and NLST (and MLSD against
// the reference), passive first, then active.
var captures = []struct {
	file          string
	port          uint16
	control, data int
	bytes         map[string]int64 // transfer command -> bytes on its data connection
}{
	{"testdata/vsftpd-ftplib.pcapng", 33187, 2, 8,
		map[string]int64{"RETR pub/blob.bin": 3000, "STOR incoming/up-pasv.bin": 950, "STOR incoming/up-port.bin": 950}},
	{"testdata/reference-ftplib.pcapng", 49519, 2, 9,
		map[string]int64{"RETR /pub/data/1k.bin": 1024, "STOR /upload/up-pasv.bin": 950, "STOR /upload/up-port.bin": 950}},
}

// TestRealCapturesLinkEveryDataConnection dissects the real captures:
// every connection other than the control connections is a data
// connection linked to the command that opened it and to the transfer
// that used it, with its bytes.
func TestRealCapturesLinkEveryDataConnection(t *testing.T) {
	for _, c := range captures {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			checkCapture(t, data, c.port, c.control, c.data, c.bytes)
		})
	}
}

func checkCapture(t *testing.T, data []byte, port uint16, wantControl, wantData int, bytes map[string]int64) {
	_, msgs, flows := pcaptest.Analyze(t, data, pcap.Options{DecodeAs: map[uint16]string{port: "ftp"}})
	control, dataFlows := 0, 0
	for _, f := range flows {
		switch {
		case f.Server.Port() == port:
			control++
			if f.Proto != "ftp" || f.OpenedBy != "" {
				t.Errorf("control flow %v: proto %q opened by %q", f, f.Proto, f.OpenedBy)
			}
		default:
			dataFlows++
			if f.Proto != ftp.DataProto {
				t.Errorf("flow %v is not linked to a control connection (proto %q)", f, f.Proto)
			}
			if !strings.Contains(f.OpenedBy, "PASV #") && !strings.Contains(f.OpenedBy, "PORT #") {
				t.Errorf("flow %v opened by %q", f, f.OpenedBy)
			}
		}
	}
	if control != wantControl || dataFlows != wantData {
		t.Fatalf("%d control and %d data flows, want %d and %d", control, dataFlows, wantControl, wantData)
	}
	byFlow := map[int]*pcap.Message{}
	cmds := map[[2]int]*pcap.Message{}
	for _, m := range msgs {
		if m.Proto == "ftp" && m.Side == pcap.Client {
			cmds[[2]int{m.Flow, m.N}] = m
		}
	}
	for _, m := range msgs {
		di, ok := m.Info.(*ftp.DataInfo)
		if !ok {
			continue
		}
		byFlow[m.Flow] = m
		setup := cmds[[2]int{di.ControlFlow, di.SetupN}]
		xfer := cmds[[2]int{di.ControlFlow, di.CommandN}]
		if setup == nil || xfer == nil {
			t.Errorf("%v: setup or transfer command not found: %+v", m, di)
			continue
		}
		if ftp.CommandOf(setup).Verb != di.Setup || !strings.HasPrefix(xfer.Summary, `"`+di.Command) {
			t.Errorf("%v: links %s and %s", m, setup.Summary, xfer.Summary)
		}
		if want := bytes[di.Command]; want != 0 && di.Bytes != want {
			t.Errorf("%s: %d bytes, want %d", di.Command, di.Bytes, want)
		}
		if wantMode := map[string]string{"PASV": "passive", "PORT": "active"}[di.Setup]; di.Mode != wantMode {
			t.Errorf("%v: mode %s", m, di.Mode)
		}
	}
	if len(byFlow) != wantData {
		t.Errorf("%d data flows have a transfer message, want %d", len(byFlow), wantData)
	}
	// The multi-line FEAT reply is one message.
	found := false
	for _, m := range msgs {
		if in, ok := m.Info.(*ftp.Info); ok && in.Reply != nil && in.Reply.Code == 211 && in.Reply.Multi && len(in.Reply.Lines) > 3 {
			found = true
			if m.Peer == nil || ftp.CommandOf(m.Peer).Verb != "FEAT" {
				t.Errorf("211 answers %v", m.Peer)
			}
		}
		if len(m.Problems) > 0 {
			t.Errorf("%v: problems in a clean capture", m)
		}
	}
	if !found {
		t.Error("no multi-line 211 reply")
	}
}

var (
	client = pcaptest.Addr("127.0.0.1:40000")
	server = pcaptest.Addr("127.0.0.1:21")
)

// synth writes one control connection (pairs of command and replies) and
// a data connection after the exchange at index dataAfter.
func synth(t *testing.T, pairs []string, dataAfter int, dataClient, dataServer string, payload string) []byte {
	return pcaptest.Capture(t, func(w *pcap.Writer) {
		ts := pcaptest.T0
		tc := w.TCP(client, server, "")
		pcaptest.Must(t, tc.Handshake(ts))
		pcaptest.Must(t, tc.Data(ts, false, []byte("220 protospec FTP\r\n")))
		for i := 0; i+1 < len(pairs); i += 2 {
			ts = ts.Add(time.Millisecond)
			pcaptest.Must(t, tc.Data(ts, true, []byte(pairs[i])))
			ts = ts.Add(time.Millisecond)
			pcaptest.Must(t, tc.Data(ts, false, []byte(pairs[i+1])))
			if i/2 == dataAfter {
				dc := w.TCP(pcaptest.Addr(dataClient), pcaptest.Addr(dataServer), "")
				pcaptest.Must(t, dc.Handshake(ts))
				pcaptest.Must(t, dc.Data(ts, false, []byte(payload)))
				pcaptest.Must(t, dc.Close(ts))
			}
		}
		pcaptest.Must(t, tc.Close(ts.Add(time.Millisecond)))
	})
}

func TestEPSVAndEPRT(t *testing.T) {
	for _, tc := range []struct {
		name, setup, reply, dc, ds string
	}{
		{"epsv", "EPSV\r\n", "229 Entering Extended Passive Mode (|||40123|)\r\n", "127.0.0.1:40500", "127.0.0.1:40123"},
		{"eprt", "EPRT |1|127.0.0.1|40124|\r\n", "200 EPRT ok\r\n", "127.0.0.1:20", "127.0.0.1:40124"},
		{"pasv-nat", "PASV\r\n", "227 Entering Passive Mode (10,0,0,1,156,188)\r\n", "127.0.0.1:40501", "127.0.0.1:40124"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := synth(t, []string{"USER bob\r\n", "331 pw\r\n", "PASS bob\r\n", "230 in\r\n", tc.setup, tc.reply,
				"RETR f\r\n", "150 here\r\n226 done\r\n"}, 3, tc.dc, tc.ds, "hello data")
			_, msgs, flows := pcaptest.Analyze(t, data, pcap.Options{})
			if len(flows) != 2 || flows[1].Proto != ftp.DataProto && flows[0].Proto != ftp.DataProto {
				t.Fatalf("flows %v", flows)
			}
			var di *ftp.DataInfo
			for _, m := range msgs {
				if d, ok := m.Info.(*ftp.DataInfo); ok {
					di = d
				}
			}
			if di == nil || di.Command != "RETR f" || di.Bytes != 10 {
				t.Fatalf("data info %+v\n%s", di, strings.Join(pcaptest.Summaries(msgs), "\n"))
			}
		})
	}
}

func TestChecks(t *testing.T) {
	data := synth(t, []string{
		"USER bob\r\n", "331 pw\r\n",
		"PASS bob\n", "230 in\r\n",
		"PORT 10,0,0,9,0,80\r\n", "200 PORT ok\r\n",
		"PWD\r\n", "226 odd\r\n",
		"NOOP\r\n", "2x0 broken\r\n",
		"FEAT\r\n", "211-Features\r\n MDTM\r\n211 End\r\n",
	}, -1, "", "", "")
	run := pcaptest.Check(t, data)
	st := pcaptest.States(run)
	for id, want := range map[string]string{
		ftp.RuleThirdParty:   reports.StateFailed,
		ftp.RuleBounceOK:     reports.StateFailed,
		ftp.RuleReplyCode:    reports.StateFailed,
		ftp.RuleReplyGrammar: reports.StateFailed,
		ftp.RuleLineEnd:      reports.StateFailed,
		ftp.RuleReplyLineEnd: reports.StatePassed,
		ftp.RuleDataAddress:  reports.StatePassed,
	} {
		if st[id].State != want {
			t.Errorf("%s: %s (%s), want %s", id, st[id].State, st[id].Message, want)
		}
	}
}

func TestSniff(t *testing.T) {
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		tc := w.TCP(client, pcaptest.Addr("127.0.0.1:2121"), "")
		pcaptest.Must(t, tc.Handshake(pcaptest.T0))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("220-Welcome to Pure-FTPd\r\n220 go\r\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("QUIT\r\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("221 bye\r\n")))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
	})
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	want := "flow 1 <- server#0 \"220-Welcome to Pure-FTPd\" (+1 lines)\n" +
		"flow 1 -> client#0 \"QUIT\"\n" +
		"flow 1 <- server#1 \"221 bye\" (answers #0)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestAuthTLS stops reading lines once AUTH TLS is accepted: the rest is
// TLS, counted, not flagged as bad replies.
func TestAuthTLS(t *testing.T) {
	data := synth(t, []string{"AUTH TLS\r\n", "234 go ahead\r\n\x16\x03\x01\x00\x05hello", "\x16\x03\x01\x00\x02hi", "\x17\x03\x03garbage\r\n"}, -1, "", "", "")
	_, msgs, _ := pcaptest.Analyze(t, data, pcap.Options{})
	got := strings.Join(pcaptest.Summaries(msgs), "\n")
	want := "flow 1 <- server#0 \"220 protospec FTP\"\n" +
		"flow 1 -> client#0 \"AUTH TLS\"\n" +
		"flow 1 <- server#1 \"234 go ahead\" (answers #0)\n" +
		"flow 1 -> client#1 TLS after AUTH: 7 bytes [truncated]\n" +
		"flow 1 <- server#2 TLS after AUTH: 22 bytes [truncated]"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
