package targets

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessStopAndReadiness(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProcess("sleeper", filepath.Join(dir, "log"), nil, "sh", "-c", "echo started; exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	// Ready from the third probe on, once the process has said so: a
	// process stopped before its shell ran echo has no output to check.
	tries := 0
	err = p.WaitReady(context.Background(), 5*time.Second, func(context.Context) error {
		if tries++; tries < 3 || !strings.Contains(p.Output(), "started") {
			return context.DeadlineExceeded
		}
		return nil
	})
	if err != nil || tries < 3 {
		t.Fatalf("WaitReady: %v after %d probes", err, tries)
	}
	pid := p.PID()
	if err := p.Stop(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("pid %d still exists after Stop", pid)
	}
	if !strings.Contains(p.Output(), "started") {
		t.Errorf("output %q", p.Output())
	}
}

func TestWaitReadyReportsEarlyExit(t *testing.T) {
	p, err := StartProcess("crasher", filepath.Join(t.TempDir(), "log"), nil, "sh", "-c", "echo 'bad config line 3' >&2; exit 1")
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), 5*time.Second, func(context.Context) error { return context.DeadlineExceeded })
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "bad config line 3") {
		t.Errorf("WaitReady: %v", err)
	}
}
