package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// EchoOptions configure the uppercase-line client.
type EchoOptions struct {
	// Addr is the uppercase/tcp service ("127.0.0.1:7000").
	Addr string
	// Lines are sent in turn, each followed by LF; default 16 lines of
	// mixed-case text.
	Lines []string
}

// Echo is the load client of protospec's uppercase line protocol over TCP:
// it sends lines and checks each reply is the line in upper case.
type Echo struct {
	addr  string
	lines [][]byte
	want  [][]byte
}

// NewEcho returns the uppercase-line client.
func NewEcho(o EchoOptions) (*Echo, error) {
	if o.Addr == "" {
		return nil, fmt.Errorf("loadgen: echo needs an address")
	}
	lines := o.Lines
	if len(lines) == 0 {
		for i := 0; i < 16; i++ {
			lines = append(lines, fmt.Sprintf("protospec load line %02d: The quick brown fox", i))
		}
	}
	p := &Echo{addr: o.Addr}
	for _, l := range lines {
		if bytes.ContainsAny([]byte(l), "\n") || len(l) >= 4095 {
			return nil, fmt.Errorf("loadgen: echo line %q holds LF or is too long", l)
		}
		line := []byte(l + "\n")
		p.lines = append(p.lines, line)
		p.want = append(p.want, bytes.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - ('a' - 'A')
			}
			return r
		}, line))
	}
	return p, nil
}

// Name implements Protocol.
func (p *Echo) Name() string { return "echo" }

// Dial implements Protocol.
func (p *Echo) Dial(_ context.Context, timeout time.Duration) (Conn, error) {
	s, err := dialStream(p.addr, timeout)
	if err != nil {
		return nil, err
	}
	return &echoConn{stream: s, p: p}, nil
}

type echoConn struct {
	*stream
	p *Echo
	q fifo
	n int
}

func (c *echoConn) Send(at int64) error {
	i := c.n % len(c.p.lines)
	c.n++
	c.wbuf = append(c.wbuf, c.p.lines[i]...)
	c.q.push(pending{at: at, idx: int32(i)})
	return nil
}

func (c *echoConn) Flush() error { return c.flush() }

func (c *echoConn) Recv(wake int64) (int64, error) {
	if c.q.len() == 0 {
		return 0, errNothingPending
	}
	for {
		buf := c.buffered()
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			p := c.q.pop()
			line := buf[:i+1]
			c.consume(i + 1)
			if want := c.p.want[p.idx]; !bytes.Equal(line, want) {
				return p.at, badResponse("expected %q, got %q", want, line)
			}
			return p.at, nil
		}
		if len(buf) > 4096 {
			return c.q.front().at, badResponse("reply line longer than 4096 bytes")
		}
		if err := c.fill(c.q.front().at, wake); err != nil {
			if err == errWaitAgain {
				continue
			}
			if err == ErrWake {
				return 0, err
			}
			return c.q.front().at, err
		}
	}
}

func (c *echoConn) Reusable() bool { return true }
func (c *echoConn) Close() error   { return c.close() }
