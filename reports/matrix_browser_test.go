package reports

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser finds a Chromium to drive, or skips the test.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on this machine (Debian package chromium)")
	return ""
}

// TestMatrixInChromium renders a matrix site in headless Chromium: the
// filters change the rows shown and the counter says how many, and a
// cell's link opens its spec in the target's report.
func TestMatrixInChromium(t *testing.T) {
	exe := browser(t)
	dir := t.TempDir()
	runs := matrixRuns()
	for _, r := range runs {
		if r.Run != nil {
			if err := WriteAll(filepath.Join(dir, r.Dir), r.Run); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := WriteMatrixSite(dir, NewMatrix("echo", runs)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(dir)))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html")); err != nil {
		t.Skipf("Chromium does not start here: %v", err)
	}
	step, cancelStep := context.WithTimeout(ctx, time.Minute)
	defer cancelStep()

	shown := func(want string) {
		t.Helper()
		got, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#shown")))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("counter %q, want %q", got, want)
		}
	}
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(step, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	if err := chromedp.Do(step, chromedp.WaitVisible(chromedp.CSS("#shown"))); err != nil {
		t.Fatal(err)
	}
	shown("4 rows shown")
	// Without MUST: the SHOULD and the MAY rows remain.
	click(`input[name=level][value=MUST]`)
	shown("2 rows shown")
	click(`input[name=level][value=MUST]`)
	// The rows where the reference and xinetd disagree: a, b and c (d ran
	// on xinetd alone).
	click(`input[name=differs]`)
	shown("3 rows shown")
	// Hiding xinetd's column leaves one target: nothing differs.
	click(`input[name=col][value="1"]`)
	shown("0 rows shown")
	click(`input[name=col][value="1"]`)
	click(`input[name=differs]`)
	shown("4 rows shown")

	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("PROTOSPEC_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Error(err)
		}
	}

	// A cell's link opens the spec it names in xinetd's report.
	href, err := chromedp.Run(step, chromedp.Evaluate[string](`document.querySelector('td.cell[data-col="1"] a').getAttribute("href")`))
	if err != nil {
		t.Fatal(err)
	}
	if href != "runs/02-xinetd/report.html#spec-echo/rfc862/tcp/a" {
		t.Fatalf("first xinetd link %q", href)
	}
	if err := chromedp.Do(step, chromedp.Navigate(srv.URL+"/"+href)); err != nil {
		t.Fatal(err)
	}
	open, err := chromedp.Run(step, chromedp.Evaluate[bool](`(function(){var e=document.getElementById("spec-echo/rfc862/tcp/a");return !!e && e.open && !e.hidden;})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !open {
		t.Error("the report does not open the spec the link names")
	}
}
