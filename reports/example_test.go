package reports_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/protospec/protospec/reports"
)

func ExampleDiff() {
	old := &reports.Run{Schema: reports.SchemaVersion, Specs: []reports.Spec{
		{ID: "echo/rfc862/tcp/echoes-bytes", Level: reports.LevelMust, State: reports.StatePassed},
		{ID: "echo/rfc862/tcp/half-close-ends", Level: reports.LevelMust, State: reports.StateFailed},
	}}
	cur := &reports.Run{Schema: reports.SchemaVersion, Specs: []reports.Spec{
		{ID: "echo/rfc862/tcp/echoes-bytes", Level: reports.LevelMust, State: reports.StateFailed, Message: "got nothing back"},
		{ID: "echo/rfc862/tcp/half-close-ends", Level: reports.LevelMust, State: reports.StatePassed},
	}}
	d := reports.Diff(old, cur)
	d.Write(os.Stdout)
	fmt.Println("regressed:", d.Regressed())
	// Output:
	// new failures (1):
	//   echo/rfc862/tcp/echoes-bytes [MUST] passed -> failed: got nothing back
	//
	// fixed (1):
	//   echo/rfc862/tcp/half-close-ends [MUST] failed -> passed
	//
	// REGRESSED: 1 new failures, 0 new known, 1 fixed, 0 no longer judged, 0 still failing (0 known), 0 added, 0 removed
	// regressed: true
}

func ExampleBaseline_Apply() {
	b, err := reports.ParseBaseline(strings.NewReader(`
# xinetd keeps the connection open after a half-close
echo/rfc862/tcp/half-close-ends
echo/rfc862/udp/*   # no UDP service configured
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	run := &reports.Run{Schema: reports.SchemaVersion, Specs: []reports.Spec{
		{ID: "echo/rfc862/tcp/half-close-ends", State: reports.StateFailed},
	}}
	b.Apply(run)
	fmt.Println("ok:", run.OK(), "unused:", b.Unused(run))
	// Output: ok: true unused: [echo/rfc862/udp/*]
}
