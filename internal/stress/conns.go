package stress

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// dialMany opens up to n connections to ep, eight dials at a time, and
// sends first on each. It stops early when ctx is done or when 64 dials
// in a row failed (the server stopped accepting: what a flood is after).
func dialMany(ctx context.Context, ep dial.Endpoint, b Budget, n int, first []byte) (conns []net.Conn, failures int, lastErr error) {
	var (
		mu      sync.Mutex
		next    atomic.Int64
		inARow  atomic.Int64
		wg      sync.WaitGroup
		workers = min(8, n)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil && inARow.Load() < 64 {
				c, err := b.Dialer.Dial(ctx, ep)
				if err == nil && len(first) > 0 {
					c.SetWriteDeadline(time.Now().Add(b.Step))
					if _, err = c.Write(first); err != nil {
						c.Close()
					}
				}
				mu.Lock()
				if err != nil {
					failures++
					lastErr = err
					inARow.Add(1)
				} else {
					conns = append(conns, c)
					inARow.Store(0)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return conns, failures, lastErr
}

// closedByServer counts the connections the server has closed or reset:
// a read that ends at once with EOF or an error other than the deadline.
// Bytes the server sent are read and dropped, up to 64 KiB a connection.
func closedByServer(conns []net.Conn) int {
	n := 0
	buf := make([]byte, 4096)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		for i := 0; i < 16; i++ {
			_, err := c.Read(buf)
			if err == nil {
				continue
			}
			if !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				n++
			}
			break
		}
	}
	return n
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// drain reads and drops what c receives until it fails, counting the
// bytes; c's deadline is refreshed every step so a quiet connection stays.
func drain(ctx context.Context, c net.Conn, step time.Duration, count *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(step))
		n, err := c.Read(buf)
		count.Add(int64(n))
		if err != nil && !isTimeout(err) {
			return
		}
		if errors.Is(err, io.EOF) {
			return
		}
	}
}

// everyTick calls f every d until ctx is done, the first time at once.
func everyTick(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
