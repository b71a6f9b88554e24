package ftp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
	_ "github.com/protospec/protospec/targets/reference"
)

// fakeServer answers what the vsftpd capture's client asks, making its
// data connections for real (accepting passive ones, dialling the PORT
// address, loopback only), and counts the data connections made.
func fakeServer(t *testing.T) (string, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go fakeSession(c, &n)
		}
	}()
	return l.Addr().String(), &n
}

func fakeSession(c net.Conn, n *atomic.Int64) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprint(c, "220 fake ftp\r\n")
	var pasv net.Listener
	var port string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch verb {
		case "USER":
			fmt.Fprint(c, "331 pw\r\n")
		case "PASS":
			fmt.Fprint(c, "230 in\r\n")
		case "TYPE":
			fmt.Fprint(c, "200 type\r\n")
		case "FEAT":
			fmt.Fprint(c, "211-Features:\r\n EPSV\r\n PASV\r\n211 End\r\n")
		case "SYST":
			fmt.Fprint(c, "215 UNIX Type: L8\r\n")
		case "PWD":
			fmt.Fprint(c, "257 \"/\"\r\n")
		case "PASV":
			pasv, _ = net.Listen("tcp", "127.0.0.1:0")
			p := pasv.Addr().(*net.TCPAddr).Port
			fmt.Fprintf(c, "227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n", p>>8, p&0xff)
		case "PORT":
			var h [6]int
			fmt.Sscanf(arg, "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5])
			port = fmt.Sprintf("%d.%d.%d.%d:%d", h[0], h[1], h[2], h[3], h[4]<<8|h[5])
			if h[0] != 127 {
				fmt.Fprint(c, "500 loopback only\r\n")
				port = ""
				continue
			}
			fmt.Fprint(c, "200 PORT ok\r\n")
		case "LIST", "NLST", "RETR", "STOR":
			var d net.Conn
			if pasv != nil {
				pasv.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
				d, err = pasv.Accept()
				pasv.Close()
				pasv = nil
			} else if port != "" {
				d, err = net.DialTimeout("tcp", port, 5*time.Second)
				port = ""
			} else {
				err = io.EOF
			}
			if err != nil {
				fmt.Fprint(c, "425 no data connection\r\n")
				continue
			}
			n.Add(1)
			fmt.Fprint(c, "150 here\r\n")
			d.SetDeadline(time.Now().Add(5 * time.Second))
			if verb == "STOR" {
				io.Copy(io.Discard, d)
			} else {
				d.Write([]byte("data\r\n"))
			}
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

// TestReplayMakesDataConnections replays the vsftpd capture to a server
// that answers every transfer 425 unless its data connection is made:
// both control flows pass, their eight data connections made live (four
// passive, four active through the rewritten PORT), and the data flows
// are not replayed on their own.
func TestReplayMakesDataConnections(t *testing.T) {
	data, err := os.ReadFile("testdata/vsftpd-ftplib.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	addr, made := fakeServer(t)
	tgt, err := targets.Open(context.Background(), addr, targets.Options{Protocol: "ftp"})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	run := pcaptest.ReplayRun(t, data, pcap.ReplayOptions{Open: pcaptest.Fixed(tgt)})
	passed, skipped := 0, 0
	for _, sp := range run.Specs {
		switch {
		case strings.HasPrefix(sp.ID, "replay/ftp/") && sp.State == reports.StatePassed:
			passed++
		case strings.HasPrefix(sp.ID, "replay/ftp-data/") && sp.State == reports.StateSkipped:
			skipped++
		default:
			t.Errorf("%s: %s\n%s", sp.ID, sp.State, sp.Message)
		}
	}
	if passed != 2 || skipped != 8 {
		t.Errorf("%d control flows passed, %d data flows skipped; want 2 and 8", passed, skipped)
	}
	if made.Load() != 8 {
		t.Errorf("%d data connections made, want 8", made.Load())
	}
}

// TestReplayToReference replays the capture recorded against the
// reference to a fresh reference: both control flows answer as recorded,
// their data connections made live.
func TestReplayToReference(t *testing.T) {
	data, err := os.ReadFile("testdata/reference-ftplib.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	tgt := pcaptest.OpenReference(t, "ftp")
	r, err := pcap.Open(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	convs, _, err := pcap.Collect(r, pcap.Options{DecodeAs: map[uint16]string{49519: "ftp"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	run := pcap.Replay(context.Background(), convs, pcap.ReplayOptions{Open: pcaptest.Fixed(tgt), StepTimeout: 5 * time.Second})
	passed := 0
	for _, sp := range run.Specs {
		switch {
		case strings.HasPrefix(sp.ID, "replay/ftp/") && sp.State == reports.StatePassed:
			passed++
		case strings.HasPrefix(sp.ID, "replay/ftp-data/") && sp.State == reports.StateSkipped:
		default:
			t.Errorf("%s: %s\n%s", sp.ID, sp.State, sp.Message)
		}
	}
	if passed != 2 {
		t.Errorf("%d control flows passed, want 2", passed)
	}
}
