package ftp

import (
	"bufio"
	"context"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/internal/dial"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

// KeepUploadsEnv, set to 1, leaves on the target the files and
// directories specs create under upload/ (to look at them afterwards);
// by default each is removed when its spec ends, so that a run leaves a
// user's tree as it was. It is the http1 suite's variable too.
const KeepUploadsEnv = "PROTOSPEC_KEEP_UPLOADS"

// scratch holds the names unique handed out since the last clean-up, and
// whether the running spec has one armed (specs run one at a time).
var scratch struct {
	sync.Mutex
	names []string
	armed bool
}

// remember notes a name unique handed out.
func remember(name string) {
	scratch.Lock()
	scratch.names = append(scratch.names, name)
	scratch.Unlock()
}

// armCleanup makes the spec that opens a control connection remove, once
// it is over and whatever its outcome, the names it drew from unique: a
// session of the fixture's user of its own, outside the transcript,
// whose replies are not judged (a name the spec never created is simply
// refused).
func armCleanup(t *spec.T) {
	if os.Getenv(KeepUploadsEnv) == "1" {
		return
	}
	scratch.Lock()
	armed := scratch.armed
	scratch.armed = true
	scratch.Unlock()
	if armed {
		return
	}
	ep, d := t.Endpoint(service), t.Dialer()
	DeferCleanup(func() {
		scratch.Lock()
		names := scratch.names
		scratch.names, scratch.armed = nil, false
		scratch.Unlock()
		if len(names) > 0 {
			removeScratch(ep, d, names)
		}
	})
}

// removeScratch logs in as the fixture's user and removes each name,
// as given and below upload/, as a file or else as a directory, the
// newest first (a file inside a directory made before it goes first).
func removeScratch(ep targets.Endpoint, d *dial.Dialer, names []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*d.Timeout)
	defer cancel()
	c, err := d.Dial(ctx, ep)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	lim := ftpwire.Limits{}
	cmd := func(line string) int {
		if _, err := c.Write([]byte(line + "\r\n")); err != nil {
			return 0
		}
		r, err := ftpwire.ReadReply(br, lim)
		if err != nil && r.Code == 0 {
			return 0
		}
		return r.Code
	}
	if r, err := ftpwire.ReadReply(br, lim); err != nil || r.Code != 220 {
		return
	}
	if cmd("USER "+user) == 331 && cmd("PASS "+password) != 230 {
		return
	}
	for i := len(names) - 1; i >= 0; i-- {
		for _, p := range []string{"/" + uploadDir + "/" + names[i], names[i]} {
			if cmd("DELE "+p) == 250 || cmd("RMD "+p) == 250 {
				break
			}
		}
	}
	cmd("QUIT")
}
