package http1

import (
	"context"
	"io"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// KeepUploadsEnv, set to 1, leaves on the target the files that specs PUT
// under /upload/ (to look at them afterwards); by default each is deleted
// when its spec ends, so that a run leaves a user's docroot as it was.
const KeepUploadsEnv = "PROTOSPEC_KEEP_UPLOADS"

// removeAfter deletes target path on the target once the spec is over,
// whatever its outcome, outside the spec's transcript, and ignores the
// answer: a target without DELETE keeps the file, as it would without
// this.
func removeAfter(t *spec.T, path string) {
	if os.Getenv(KeepUploadsEnv) == "1" {
		return
	}
	ep, d, hostField := t.Endpoint(service), t.Dialer(), host(t)
	DeferCleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*d.Timeout)
		defer cancel()
		c, err := d.Dial(ctx, ep)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(d.Timeout))
		if _, err := io.WriteString(c, "DELETE "+path+" HTTP/1.1\r\nHost: "+hostField+"\r\nConnection: close\r\n\r\n"); err != nil {
			return
		}
		// Wait for the answer (the server acts before it answers), a
		// bounded amount of it.
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	})
}
