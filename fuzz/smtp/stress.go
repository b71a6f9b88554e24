package smtpfuzz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/stress"
)

// The SMTP stress battery (`protospec stress smtp`), in the hostile-client
// room beside the fuzz model. The legitimate client sends one message
// from the fixture's alice to bob and quits: being served is having mail
// accepted, not only being greeted.
func init() {
	stress.Register(contractName, stress.Battery{
		Examples: []string{"--target postfix --attack no-final-dot --attack rcpt-flood", "--target 127.0.0.1:2525 --duration-per-attack 5s"},
		Attacks: []stress.Attack{
			stress.ConnFlood(smtpService, nil),
			slowloris(),
			slowText(),
			hugeLine(),
			noFinalDot(),
			stress.PipelineFlood(smtpService, 8, []byte("EHLO flood.test\r\nMAIL FROM:<"+fixtureFrom+">\r\nRCPT TO:<"+fixtureTo+">\r\nRSET\r\n")),
			rcptFlood(),
		},
		Probe: probeSMTP,
	})
}

// slowloris sends a command line one byte every half second on each of
// 256 connections, never ending it.
func slowloris() stress.Func {
	return stress.Slowloris(smtpService, 256, 500*time.Millisecond, []byte("EHLO "), []byte("a"))
}

// hugeLine sends a command line of megabytes that never ends: a server
// must bound the line it buffers (RFC 5321 4.5.3.1.4: 512 octets).
func hugeLine() stress.Func {
	a := stress.LargeBody(smtpService, 32, 8<<20, func(int64) []byte { return []byte("EHLO ") })
	a.AttackName = "huge-command-line"
	a.AttackDoc = "opens 32 connections and sends on each an EHLO command line of up to 8 MiB that never ends (within the byte budget), then holds"
	return a
}

// ctl is a bare SMTP connection for the attacks, the probe and the tests.
type ctl struct {
	c net.Conn
	r *bufio.Reader
}

// dialCtl connects and reads the greeting, which must be 220.
func dialCtl(ctx context.Context, d *dial.Dialer, addr string, step time.Duration) (*ctl, error) {
	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return nil, err
	}
	k := &ctl{c: c, r: bufio.NewReaderSize(c, 4096)}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(step))
	}
	if r, err := k.reply(); err != nil || r.Code != 220 {
		c.Close()
		if err == nil {
			err = fmt.Errorf("greeting %d %q, want 220", r.Code, strings.Join(r.Lines, " "))
		}
		return nil, err
	}
	return k, nil
}

// reply reads one whole reply.
func (k *ctl) reply() (Reply, error) {
	var buf []byte
	for {
		line, err := k.r.ReadSlice('\n')
		buf = append(buf, line...)
		if len(buf) > 64<<10 {
			return Reply{}, errors.New("reply longer than 64 KiB")
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return Reply{}, fmt.Errorf("reading a reply: %w", err)
		}
		r, n, perr := ParseReply(buf)
		if perr != nil {
			return Reply{}, perr
		}
		if n > 0 {
			return r, nil
		}
	}
}

// cmd sends a command line and reads its reply.
func (k *ctl) cmd(line string) (Reply, error) {
	if _, err := io.WriteString(k.c, line+"\r\n"); err != nil {
		return Reply{}, err
	}
	return k.reply()
}

// want sends a command and demands a reply of the code's class.
func (k *ctl) want(line string, class int) error {
	r, err := k.cmd(line)
	if err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	if r.Code/100 != class {
		return fmt.Errorf("%s: %d %q", line, r.Code, strings.Join(r.Lines, " "))
	}
	return nil
}

// open greets with EHLO and starts a transaction from the fixture's
// sender to its recipient, and (when data) sends DATA, awaiting 354.
func (k *ctl) open(data bool) error {
	for _, c := range []string{"EHLO stress.test", "MAIL FROM:<" + fixtureFrom + ">", "RCPT TO:<" + fixtureTo + ">"} {
		if err := k.want(c, 2); err != nil {
			return err
		}
	}
	if data {
		return k.want("DATA", 3)
	}
	return nil
}

// probeSMTP is the legitimate client: one message from the fixture's
// sender to its recipient, answered 250 at its end, then QUIT, within
// ctx's deadline.
func probeSMTP(ctx context.Context, service, addr string) error {
	if service != smtpService {
		return fmt.Errorf("smtp stress probe: no service %q", service)
	}
	var d dial.Dialer
	k, err := dialCtl(ctx, &d, addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer k.c.Close()
	if err := k.open(true); err != nil {
		return err
	}
	text := Stuff([]byte("From: <" + fixtureFrom + ">\r\nTo: <" + fixtureTo + ">\r\nSubject: protospec stress probe\r\n\r\nstill served\r\n"))
	if _, err := k.c.Write(text); err != nil {
		return err
	}
	r, err := k.reply()
	if err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	if r.Code != 250 {
		return fmt.Errorf("end of data: %d %q", r.Code, strings.Join(r.Lines, " "))
	}
	k.cmd("QUIT")
	return nil
}

// opened opens n connections (at most the budget's), each greeted and
// in a transaction (after a 354 when data), eight at a time.
func opened(ctx context.Context, ep dial.Endpoint, b stress.Budget, n int, data bool) ([]*ctl, int) {
	n = min(n, b.Conns)
	var mu sync.Mutex
	var out []*ctl
	fails := 0
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(8, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				sctx, cancel := context.WithTimeout(ctx, 2*b.Step)
				k, err := dialCtl(sctx, b.Dialer, ep.Addr, b.Step)
				if err == nil {
					if err = k.open(data); err != nil {
						k.c.Close()
					}
				}
				cancel()
				mu.Lock()
				if err != nil {
					fails++
				} else {
					k.c.SetDeadline(time.Time{})
					out = append(out, k)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, fails
}

func closeCtls(ks []*ctl) {
	for _, k := range ks {
		k.c.Close()
	}
}

// noFinalDot starts a message on many connections and sends its text,
// lines of 998 octets, as fast as the server takes it, never the final
// dot: a server must bound the text it holds (SIZE, RFC 1870) and the
// time it waits (RFC 5321 4.5.3.2.7), and stay up with every one open.
func noFinalDot() stress.Func {
	return stress.Func{
		AttackName: "no-final-dot",
		AttackDoc:  "starts a transaction on 32 connections, sends DATA and then message text as fast as the server takes it (within the byte budget) and never the final dot, then holds",
		Svc:        smtpService,
		Fn: func(ctx context.Context, ep dial.Endpoint, b stress.Budget) (stress.Figures, error) {
			ks, fails := opened(ctx, ep, b, 32, true)
			if len(ks) == 0 {
				return nil, fmt.Errorf("no connection got to 354 (%d failed)", fails)
			}
			defer closeCtls(ks)
			line := append(bytes.Repeat([]byte("x"), 998), '\r', '\n')
			chunk := bytes.Repeat(line, 64)
			per := b.Bytes / int64(len(ks))
			var sent, cut atomic.Int64
			var wg sync.WaitGroup
			for _, k := range ks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for mine := int64(0); mine < per && ctx.Err() == nil; {
						k.c.SetWriteDeadline(time.Now().Add(b.Step))
						m, err := k.c.Write(chunk[:min(int64(len(chunk)), per-mine)])
						mine += int64(m)
						sent.Add(int64(m))
						if err != nil {
							var ne net.Error
							if !errors.As(err, &ne) || !ne.Timeout() {
								cut.Add(1)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			<-ctx.Done()
			return stress.Figures{
				"connections_opened": float64(len(ks)),
				"transaction_fails":  float64(fails),
				"text_bytes_sent":    float64(sent.Load()),
				"cut_off_by_server":  float64(cut.Load()),
			}, nil
		},
	}
}

// slowText starts a message on many connections and sends its text one
// byte per connection every half second: a server must bound the whole
// text's time, not only each read's.
func slowText() stress.Func {
	return stress.Func{
		AttackName: "slow-text",
		AttackDoc:  "starts a transaction on 64 connections, sends DATA and then the message text one byte every 500ms on each, never ending it",
		Svc:        smtpService,
		Fn: func(ctx context.Context, ep dial.Endpoint, b stress.Budget) (stress.Figures, error) {
			ks, fails := opened(ctx, ep, b, 64, true)
			if len(ks) == 0 {
				return nil, fmt.Errorf("no connection got to 354 (%d failed)", fails)
			}
			defer closeCtls(ks)
			alive := make([]bool, len(ks))
			for i := range alive {
				alive[i] = true
			}
			var sent int64
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ctx.Err() == nil; i++ {
				one := []byte{"slow text\r\n"[i%11]}
				for j, k := range ks {
					if !alive[j] {
						continue
					}
					k.c.SetWriteDeadline(time.Now().Add(b.Step))
					if _, err := k.c.Write(one); err != nil {
						alive[j] = false
						continue
					}
					sent++
				}
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
			held := 0
			for _, a := range alive {
				if a {
					held++
				}
			}
			return stress.Figures{
				"connections_opened": float64(len(ks)),
				"transaction_fails":  float64(fails),
				"bytes_trickled":     float64(sent),
				"write_failures":     float64(len(ks) - held),
			}, nil
		},
	}
}

// rcptFlood sends RCPT thousands of times in one transaction on each of
// a few connections, reading the replies: past its limit (RFC 5321
// 4.5.3.1.8: at least 100) a server refuses with 452, and it must not
// grow without bound.
func rcptFlood() stress.Func {
	return stress.Func{
		AttackName: "rcpt-flood",
		AttackDoc:  "starts a transaction on 8 connections and sends RCPT TO the fixture's recipient in pipelined batches of 100, again and again, reading the replies",
		Svc:        smtpService,
		Fn: func(ctx context.Context, ep dial.Endpoint, b stress.Budget) (stress.Figures, error) {
			ks, fails := opened(ctx, ep, b, 8, false)
			if len(ks) == 0 {
				return nil, fmt.Errorf("no transaction started (%d failed)", fails)
			}
			defer closeCtls(ks)
			line := "RCPT TO:<" + fixtureTo + ">\r\n"
			batch := strings.Repeat(line, 100)
			var sent, accepted, refused atomic.Int64
			var wg sync.WaitGroup
			for _, k := range ks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil && sent.Load()*int64(len(line)) < b.Bytes {
						k.c.SetDeadline(time.Now().Add(b.Step))
						if _, err := io.WriteString(k.c, batch); err != nil {
							return
						}
						sent.Add(100)
						for j := 0; j < 100; j++ {
							r, err := k.reply()
							if err != nil {
								return
							}
							if r.Code/100 == 2 {
								accepted.Add(1)
							} else {
								refused.Add(1)
							}
							if r.Code == 421 {
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			return stress.Figures{
				"connections_opened": float64(len(ks)),
				"transaction_fails":  float64(fails),
				"rcpt_sent":          float64(sent.Load()),
				"rcpt_accepted":      float64(accepted.Load()),
				"rcpt_refused":       float64(refused.Load()),
			}, nil
		},
	}
}
