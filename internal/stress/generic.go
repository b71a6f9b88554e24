package stress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/protospec/protospec/internal/dial"
)

// The generic attacks: each is protocol-free and takes the protocol's
// bytes (a request, a request head, a query). Each holds at most
// Budget.Conns connections and sends at most Budget.Bytes.

// fdRoom is how many more descriptors this process may open, leaving 100
// spare: a flood must not take protospec itself down.
func fdRoom() int {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return 900
	}
	return max(0, int(min(r.Cur, 1<<20))-100-openFDs())
}

// ConnFlood opens as many connections as the budget allows (and this
// process's fd limit leaves room for), sends greeting on each (nothing
// when empty) and holds them idle to the end: a server that dies or stops
// accepting when its descriptors run out fails its legitimate client.
func ConnFlood(svc string, greeting []byte) Func {
	return Func{
		AttackName: "connection-flood",
		AttackDoc:  fmt.Sprintf("opens up to the budget's connections (at most this process's fd limit less 100), sends %d bytes on each and holds them idle", len(greeting)),
		Svc:        svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			n := min(b.Conns, fdRoom())
			conns, fails, err := dialSome(ctx, ep, b, n, greeting)
			if err != nil {
				return nil, err
			}
			defer closeAll(conns)
			<-ctx.Done()
			return Figures{
				"connections_wanted": float64(n),
				"connections_opened": float64(len(conns)),
				"dial_failures":      float64(fails),
				"closed_by_server":   float64(closedByServer(conns)),
			}, nil
		},
	}
}

// Trickle opens conns connections (within the budget) and sends the
// message msg(i) on each every interval, reading and dropping the
// answers: connections that are never idle long enough for an idle
// timeout, holding a server's connection slots (the DNS-over-TCP
// lockout).
func Trickle(name, doc, svc string, conns int, every time.Duration, msg func(i int) []byte) Func {
	return Func{
		AttackName: name, AttackDoc: doc, Svc: svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			n := min(conns, b.Conns)
			cs, fails, err := dialSome(ctx, ep, b, n, nil)
			if err != nil {
				return nil, err
			}
			defer closeAll(cs)
			var sent, failed, recv atomic.Int64
			var wg sync.WaitGroup
			for i, c := range cs {
				wg.Add(2)
				go func() { defer wg.Done(); drain(ctx, c, b.Step, &recv) }()
				go func() {
					defer wg.Done()
					k, dead := 0, false
					everyTick(ctx, every, func() {
						if dead {
							return
						}
						c.SetWriteDeadline(time.Now().Add(b.Step))
						if _, err := c.Write(msg(i*1000 + k)); err != nil {
							failed.Add(1)
							dead = true
							return
						}
						k++
						sent.Add(1)
					})
				}()
			}
			<-ctx.Done()
			closed := closedByServer(cs)
			closeAll(cs)
			wg.Wait()
			return Figures{
				"connections_opened": float64(len(cs)),
				"dial_failures":      float64(fails),
				"messages_sent":      float64(sent.Load()),
				"write_failures":     float64(failed.Load()),
				"bytes_received":     float64(recv.Load()),
				"closed_by_server":   float64(closed),
			}, nil
		},
	}
}

// Slowloris opens conns connections and sends head one byte at a time,
// one byte per connection every interval, then filler (a header line)
// again and again: request heads that never end.
func Slowloris(svc string, conns int, every time.Duration, head, filler []byte) Func {
	return trickleBytes("slowloris", fmt.Sprintf("opens %d connections and sends a request head one byte every %s on each, never ending it", conns, every),
		svc, conns, every, nil, func(i int) byte {
			if i < len(head) {
				return head[i]
			}
			return filler[(i-len(head))%len(filler)]
		})
}

// SlowBody opens conns connections, sends head (which declares a large
// body) at once, then the body one byte per connection every interval.
func SlowBody(svc string, conns int, every time.Duration, head []byte) Func {
	return trickleBytes("slow-body", fmt.Sprintf("opens %d connections, sends a whole request head announcing a large body, then the body one byte every %s", conns, every),
		svc, conns, every, head, func(int) byte { return 'a' })
}

// trickleBytes is slowloris and slow body: first at once, then byte(i)
// one at a time on every connection each interval.
func trickleBytes(name, doc, svc string, conns int, every time.Duration, first []byte, byteAt func(i int) byte) Func {
	return Func{
		AttackName: name, AttackDoc: doc, Svc: svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			n := min(conns, b.Conns)
			cs, fails, err := dialSome(ctx, ep, b, n, first)
			if err != nil {
				return nil, err
			}
			defer closeAll(cs)
			alive := make([]bool, len(cs))
			for i := range alive {
				alive[i] = true
			}
			var sent int64
			k := 0
			everyTick(ctx, every, func() {
				one := []byte{byteAt(k)}
				for i, c := range cs {
					if !alive[i] {
						continue
					}
					c.SetWriteDeadline(time.Now().Add(b.Step))
					if _, err := c.Write(one); err != nil {
						alive[i] = false
						continue
					}
					sent++
				}
				k++
			})
			held := 0
			for _, a := range alive {
				if a {
					held++
				}
			}
			return Figures{
				"connections_opened": float64(len(cs)),
				"dial_failures":      float64(fails),
				"bytes_trickled":     float64(sent),
				"write_failures":     float64(len(cs) - held),
				"closed_by_server":   float64(closedByServer(cs)),
			}, nil
		},
	}
}

// SlowReader opens conns connections with a small receive buffer, writes
// request on each again and again (up to perConn bytes, enough for the
// answers to fill the server's send buffer) and never reads: the server's
// answers pile up until its writes block. A server whose writes have no
// deadline keeps a goroutine or worker per such connection forever.
func SlowReader(svc string, conns int, perConn int64, request []byte) Func {
	return Func{
		AttackName: "slow-reader",
		AttackDoc:  fmt.Sprintf("opens %d connections, sends up to %d KiB of pipelined requests on each until the server stops reading, and never reads an answer", conns, perConn>>10),
		Svc:        svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			n := min(conns, b.Conns)
			d := *b.Dialer
			inner := d.Wrap
			d.Wrap = func(c net.Conn) net.Conn {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetReadBuffer(4096)
				}
				if inner != nil {
					return inner(c)
				}
				return c
			}
			b.Dialer = &d
			cs, fails, err := dialSome(ctx, ep, b, n, nil)
			if err != nil {
				return nil, err
			}
			defer closeAll(cs)
			perConn := max(int64(len(request)), min(perConn, b.Bytes/int64(len(cs))))
			batch := request
			for len(batch) < 16<<10 {
				batch = append(batch, request...)
			}
			var sent, stalled atomic.Int64
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := writeUpTo(ctx, c, b.Step, perConn, func(int64) []byte { return batch }, func(m int, _ error) { sent.Add(int64(m)) })
					if err != nil && isTimeout(err) {
						stalled.Add(1)
					}
				}()
			}
			wg.Wait()
			<-ctx.Done()
			return Figures{
				"connections_opened":  float64(len(cs)),
				"dial_failures":       float64(fails),
				"bytes_sent":          float64(sent.Load()),
				"connections_stalled": float64(stalled.Load()),
				"closed_by_server":    float64(closedByServer(cs)),
			}, nil
		},
	}
}

// PipelineFlood opens conns connections and writes request back to back
// on each as fast as the server takes them, reading and dropping the
// answers: the most work one client can ask for.
func PipelineFlood(svc string, conns int, request []byte) Func {
	return Func{
		AttackName: "pipelining-flood",
		AttackDoc:  fmt.Sprintf("opens %d connections and sends requests back to back in batches of 64 without waiting, reading and dropping the answers", conns),
		Svc:        svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			n := min(conns, b.Conns)
			cs, fails, err := dialSome(ctx, ep, b, n, nil)
			if err != nil {
				return nil, err
			}
			defer closeAll(cs)
			var batch []byte
			for i := 0; i < 64; i++ {
				batch = append(batch, request...)
			}
			perConn := max(int64(len(batch)), b.Bytes/int64(len(cs)))
			var reqs, recv, closed atomic.Int64
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Add(2)
				go func() { defer wg.Done(); drain(ctx, c, b.Step, &recv) }()
				go func() {
					defer wg.Done()
					err := writeUpTo(ctx, c, b.Step, perConn, func(int64) []byte { return batch }, func(_ int, err error) {
						if err == nil {
							reqs.Add(64)
						}
					})
					if err != nil && !isTimeout(err) {
						closed.Add(1)
					}
				}()
			}
			<-ctx.Done()
			closeAll(cs)
			wg.Wait()
			return Figures{
				"connections_opened": float64(len(cs)),
				"dial_failures":      float64(fails),
				"requests_sent":      float64(reqs.Load()),
				"bytes_received":     float64(recv.Load()),
				"closed_by_server":   float64(closed.Load()),
			}, nil
		},
	}
}

// LargeBody opens conns connections and on each sends head(size), which
// announces a body of size bytes, then all of that body but its last byte
// as fast as the server takes it, and holds: a server that buffers bodies
// in memory grows by conns×size.
func LargeBody(svc string, conns int, size int64, head func(size int64) []byte) Func {
	return Func{
		AttackName: "large-body",
		AttackDoc:  fmt.Sprintf("opens %d connections, announces a %d MiB body on each and sends all of it but the last byte (within the byte budget), then holds", conns, size>>20),
		Svc:        svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			n := min(conns, b.Conns)
			perConn := min(size-1, b.Bytes/int64(max(n, 1)))
			cs, fails, err := dialSome(ctx, ep, b, n, head(size))
			if err != nil {
				return nil, err
			}
			defer closeAll(cs)
			chunk := make([]byte, 64<<10)
			for i := range chunk {
				chunk[i] = 'a'
			}
			var sent, refused atomic.Int64
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for _, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					next := func(mine int64) []byte { return chunk[:min(int64(len(chunk)), perConn-mine)] }
					err := writeUpTo(ctx, c, b.Step, perConn, next, func(m int, _ error) { sent.Add(int64(m)) })
					if err != nil && !isTimeout(err) {
						refused.Add(1)
					}
				}()
			}
			wg.Wait()
			<-ctx.Done()
			return Figures{
				"connections_opened": float64(len(cs)),
				"dial_failures":      float64(fails),
				"body_bytes_sent":    float64(sent.Load()),
				"cut_off_by_server":  float64(refused.Load()),
				"closed_by_server":   float64(closedByServer(cs)),
			}, nil
		},
	}
}

// UDPFlood sends msg(i) datagrams from socks sockets at rate datagrams a
// second in all (within the byte budget), reading and dropping the
// answers: a flood of distinct queries, such as random names that fill a
// resolver's cache. The rate is bounded so that the flood measures the
// server, not protospec's own share of the machine.
func UDPFlood(name, doc, svc, probe string, socks, rate int, msg func(i int) []byte) Func {
	return Func{
		AttackName: name, AttackDoc: doc, Svc: svc, Probe: probe,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			var sent, sentBytes, answers atomic.Int64
			var wg sync.WaitGroup
			var once sync.Once
			var openErr error
			for s := 0; s < min(socks, b.Conns); s++ {
				pc, raddr, err := b.Dialer.ListenPacket(ep)
				if err != nil {
					once.Do(func() { openErr = err })
					continue
				}
				wg.Add(2)
				go func() {
					defer wg.Done()
					buf := make([]byte, 65535)
					for ctx.Err() == nil {
						pc.SetReadDeadline(time.Now().Add(b.Step))
						if _, _, err := pc.ReadFrom(buf); err == nil {
							answers.Add(1)
						} else if !isTimeout(err) {
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					defer pc.Close()
					perTick := max(1, rate/100/socks)
					i := s
					everyTick(ctx, 10*time.Millisecond, func() {
						for k := 0; k < perTick && sentBytes.Load() < b.Bytes; k++ {
							m := msg(i)
							i += socks
							pc.SetWriteDeadline(time.Now().Add(b.Step))
							if _, err := pc.WriteTo(m, raddr); err != nil {
								continue
							}
							sent.Add(1)
							sentBytes.Add(int64(len(m)))
						}
					})
				}()
			}
			if openErr != nil && sent.Load() == 0 {
				wg.Wait()
				return nil, openErr
			}
			<-ctx.Done()
			wg.Wait()
			return Figures{
				"datagrams_sent":   float64(sent.Load()),
				"bytes_sent":       float64(sentBytes.Load()),
				"answers_received": float64(answers.Load()),
			}, nil
		},
	}
}

// Amplification sends each of queries over UDP in turn, waiting for the
// answer (one step at most), and measures how many bytes the server sends
// back for each byte it receives: what a spoofed-source attacker would get
// reflected at a victim. The attack fails when the factor is above
// maxFactor.
func Amplification(svc string, maxFactor float64, queries [][]byte) Func {
	return Func{
		AttackName: "amplification",
		AttackDoc:  fmt.Sprintf("sends %d kinds of query over UDP and measures the bytes answered per byte asked; fails above a factor of %g", len(queries), maxFactor),
		Svc:        svc,
		Fn: func(ctx context.Context, ep dial.Endpoint, b Budget) (Figures, error) {
			pc, raddr, err := b.Dialer.ListenPacket(ep)
			if err != nil {
				return nil, err
			}
			defer pc.Close()
			buf := make([]byte, 65535)
			var in, out, worst float64
			var asked, answered int
			for i := 0; ctx.Err() == nil && in < float64(b.Bytes); i++ {
				q := queries[i%len(queries)]
				pc.SetDeadline(time.Now().Add(b.Step))
				if _, err := pc.WriteTo(q, raddr); err != nil {
					continue
				}
				asked++
				in += float64(len(q))
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					continue
				}
				answered++
				out += float64(n)
				worst = max(worst, float64(n)/float64(len(q)))
			}
			if asked == 0 {
				return nil, errors.New("no query sent")
			}
			return Figures{
				"queries_sent":      float64(asked),
				"answers_received":  float64(answered),
				"bytes_in":          in,
				"bytes_out":         out,
				"amplification":     out / in,
				"worst_query_ratio": worst,
			}, nil
		},
		Check: func(f Figures) error {
			if f["amplification"] > maxFactor {
				return fmt.Errorf("amplification factor %.1f, above %g: each byte asked is answered with %.1f", f["amplification"], maxFactor, f["amplification"])
			}
			return nil
		},
	}
}

// dialSome opens n connections as dialMany does, sending first on each,
// and fails only when none opened.
func dialSome(ctx context.Context, ep dial.Endpoint, b Budget, n int, first []byte) ([]net.Conn, int, error) {
	cs, fails, err := dialMany(ctx, ep, b, n, first)
	if len(cs) == 0 && err != nil {
		return nil, fails, fmt.Errorf("no connection opened: %w", err)
	}
	return cs, fails, nil
}

// writeUpTo writes next(written so far) on c again and again, each write
// within step, until limit bytes are written or ctx is done; it stops at
// the first failed write and returns its error. wrote is told of every
// write: how many bytes it took and its error.
func writeUpTo(ctx context.Context, c net.Conn, step time.Duration, limit int64, next func(mine int64) []byte, wrote func(n int, err error)) error {
	var mine int64
	for ctx.Err() == nil && mine < limit {
		c.SetWriteDeadline(time.Now().Add(step))
		m, err := c.Write(next(mine))
		mine += int64(m)
		wrote(m, err)
		if err != nil {
			return err
		}
	}
	return nil
}
