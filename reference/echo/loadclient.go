package echo

import (
	"bytes"
	"context"
	"fmt"
	"time"

	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/internal/loadgen"
)

func init() {
	svc := string(Uppercase) + "/tcp"
	loadgen.Register(contract.Name, loadgen.Client{
		Service:  svc,
		Examples: []string{"--target reference --requests 100000", "--target 127.0.0.1:7000 --connections 4 --pipeline 16"},
		Plan: func(map[string]string) (*loadgen.Load, error) {
			return &loadgen.Load{Service: svc, Workload: []string{"uppercase lines"},
				Open: func(to loadgen.Target, _ time.Duration) (loadgen.Protocol, error) {
					p, err := NewLoadClient(LoadClientOptions{Addr: to.Endpoint.Addr, Target: to})
					if err != nil {
						return nil, err
					}
					return p, nil
				}}, nil
		},
	})
}

// LoadClientOptions configure the uppercase-line client.
type LoadClientOptions struct {
	// Addr is the uppercase/tcp service ("127.0.0.1:7000").
	Addr string
	// Target, when its endpoint is set, is how Addr is reached (over TLS,
	// from a source address); otherwise plain TCP.
	Target loadgen.Target
	// Lines are sent in turn, each followed by LF; default 16 lines of
	// mixed-case text.
	Lines []string
}

// LoadClient is the load client of protospec's uppercase line protocol
// over TCP (`protospec bench echo`): it sends lines and checks each reply
// is the line in upper case.
type LoadClient struct {
	to    loadgen.Target
	lines [][]byte
	want  [][]byte
}

// NewLoadClient returns the uppercase-line client.
func NewLoadClient(o LoadClientOptions) (*LoadClient, error) {
	if o.Addr == "" {
		return nil, fmt.Errorf("echo load client: no address")
	}
	lines := o.Lines
	if len(lines) == 0 {
		for i := 0; i < 16; i++ {
			lines = append(lines, fmt.Sprintf("protospec load line %02d: The quick brown fox", i))
		}
	}
	p := &LoadClient{to: o.Target}
	if p.to.Endpoint.Addr == "" {
		p.to = loadgen.TCP(o.Addr)
	}
	for _, l := range lines {
		if bytes.ContainsAny([]byte(l), "\n") || len(l) >= 4095 {
			return nil, fmt.Errorf("echo load client: line %q holds LF or is too long", l)
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

// Name implements loadgen.Protocol.
func (p *LoadClient) Name() string { return contract.Name }

// Dial implements loadgen.Protocol.
func (p *LoadClient) Dial(ctx context.Context, timeout time.Duration) (loadgen.Conn, error) {
	s, err := loadgen.DialStream(ctx, p.to, timeout)
	if err != nil {
		return nil, err
	}
	return &loadConn{Stream: s, p: p}, nil
}

type loadConn struct {
	*loadgen.Stream
	p *LoadClient
	q loadgen.FIFO
	n int
}

func (c *loadConn) Send(at int64) error {
	i := c.n % len(c.p.lines)
	c.n++
	c.Out = append(c.Out, c.p.lines[i]...)
	c.q.Push(loadgen.Pending{At: at, Idx: int32(i)})
	return nil
}

func (c *loadConn) Recv(wake int64) (int64, error) {
	if c.q.Len() == 0 {
		return 0, loadgen.ErrNothingPending
	}
	for {
		buf := c.Buffered()
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			p := c.q.Pop()
			line := buf[:i+1]
			c.Consume(i + 1)
			if want := c.p.want[p.Idx]; !bytes.Equal(line, want) {
				return p.At, loadgen.BadResponse("expected %q, got %q", want, line)
			}
			return p.At, nil
		}
		if len(buf) > 4096 {
			return c.q.Front().At, loadgen.BadResponse("reply line longer than 4096 bytes")
		}
		if err := c.Fill(c.q.Front().At, wake); err != nil {
			if err == loadgen.ErrWaitAgain {
				continue
			}
			if err == loadgen.ErrWake {
				return 0, err
			}
			return c.q.Front().At, err
		}
	}
}

func (c *loadConn) Reusable() bool { return true }
