package echo

import (
	"flag"
	"strings"
	"testing"

	"github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"
	"github.com/protospec/protospec/reports"
)

var update = flag.Bool("update", false, "rewrite testdata from the synthesizer")

func TestReplayEcho(t *testing.T) {
	ref := pcaptest.OpenReference(t, echo.Name)
	echoSrv := pcaptest.Addr("127.0.0.1:7")
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		tc := w.TCP(pcaptest.Client, echoSrv, "")
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("hello\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("hello\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("world\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("world\n")))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
		pcaptest.Must(t, w.UDP(pcaptest.T0, pcaptest.Addr("127.0.0.1:41000"), echoSrv, true, []byte("datagram"), ""))
		pcaptest.Must(t, w.UDP(pcaptest.T0, echoSrv, pcaptest.Addr("127.0.0.1:41000"), false, []byte("datagram"), ""))
	})
	run := pcaptest.ReplayRun(t, data, pcap.ReplayOptions{Open: pcaptest.Fixed(ref), Params: map[string]string{paramService: "echo"}})
	for _, sp := range run.Specs {
		if sp.State != reports.StatePassed {
			t.Errorf("%s: %s %s", sp.ID, sp.State, sp.Message)
		}
	}
	run = pcaptest.ReplayRun(t, data, pcap.ReplayOptions{Open: pcaptest.Fixed(ref), Params: map[string]string{paramService: "uppercase"}})
	if len(run.Specs) != 2 || run.OK() || !strings.Contains(run.Specs[0].Message, `recorded: "hello\n"`+"\n"+`replayed: "HELLO\n"`) {
		t.Fatalf("%+v", run.Specs)
	}
}

// goldenCaptures makes the checked-in capture: a gzipped pcapng of one
// echo connection whose lines are split across segments.
func goldenCaptures(t *testing.T) map[string][]byte {
	data := pcaptest.Capture(t, func(w *pcap.Writer) {
		tc := w.TCP(pcaptest.Client, pcaptest.Addr("127.0.0.1:7"), "")
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("hello\nwor")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("hello\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, true, []byte("ld\n")))
		pcaptest.Must(t, tc.Data(pcaptest.T0, false, []byte("world\n")))
		pcaptest.Must(t, tc.Close(pcaptest.T0))
	})
	return map[string][]byte{"echo.pcapng.gz": pcaptest.Gz(data)}
}

// TestGolden dissects the checked-in captures and compares with the
// .txt next to each; go test ./pcap/echo -run TestGolden -update rewrites
// both.
func TestGolden(t *testing.T) {
	var caps map[string][]byte
	if *update {
		caps = goldenCaptures(t)
	}
	pcaptest.Golden(t, *update, caps)
}
