package ftpfuzz

import (
	"bufio"
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

// The FTP stress battery (`protospec stress ftp`), in the hostile-client
// room beside the fuzz model. The legitimate client logs in as the
// fixture's user, lists its directory over a passive data connection and
// quits: the data path is part of being served.
func init() {
	stress.Register(contractName, stress.Battery{
		Examples: []string{"--target vsftpd --attack never-open-data --attack pasv-flood", "--target 127.0.0.1:2121 --duration-per-attack 5s"},
		Attacks: []stress.Attack{
			stress.ConnFlood(ftpService, nil),
			slowloris(),
			hugeLine(),
			neverOpenData(),
			pasvFlood(),
			slowDataReader(),
		},
		Probe: probeFTP,
	})
}

func slowloris() stress.Func {
	return stress.Slowloris(ftpService, 256, 500*time.Millisecond, []byte("USER "+fixtureUser), []byte("a"))
}

// hugeLine sends a command line of megabytes that never ends: a server
// must bound the line it buffers.
func hugeLine() stress.Func {
	a := stress.LargeBody(ftpService, 32, 8<<20, func(int64) []byte { return []byte("USER ") })
	a.AttackName = "huge-command-line"
	a.AttackDoc = "opens 32 connections and sends on each a USER command line of up to 8 MiB that never ends (within the byte budget), then holds"
	return a
}

// ctl is a bare control connection for the attacks and the probe.
type ctl struct {
	c net.Conn
	r *bufio.Reader
	// step bounds each exchange.
	step time.Duration
}

func dialCtl(ctx context.Context, d *dial.Dialer, addr string, step time.Duration) (*ctl, error) {
	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return nil, err
	}
	k := &ctl{c: c, r: bufio.NewReaderSize(c, 4096), step: step}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(step))
	}
	if code, _, err := k.reply(); err != nil || code != 220 {
		c.Close()
		if err == nil {
			err = fmt.Errorf("greeting %d, want 220", code)
		}
		return nil, err
	}
	return k, nil
}

// reply reads one final reply (preliminary 1yz replies passed over):
// its code and text.
func (k *ctl) reply() (int, string, error) {
	var buf []byte
	for {
		line, err := k.r.ReadSlice('\n')
		buf = append(buf, line...)
		if len(buf) > 64<<10 {
			return 0, "", errors.New("reply longer than 64 KiB")
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return 0, "", fmt.Errorf("reading a reply: %w", err)
		}
		code, lines, n, perr := nextReply(buf)
		switch {
		case perr != nil:
			return 0, "", perr
		case n == 0:
			continue
		case code < 200:
			buf = buf[:0]
			continue
		}
		return code, strings.Join(lines, "\n"), nil
	}
}

// cmd sends a command and reads its final reply.
func (k *ctl) cmd(line string) (int, string, error) {
	if _, err := io.WriteString(k.c, line+"\r\n"); err != nil {
		return 0, "", err
	}
	return k.reply()
}

func (k *ctl) login() error {
	code, _, err := k.cmd("USER " + fixtureUser)
	if err == nil && code == 331 {
		code, _, err = k.cmd("PASS " + fixturePass)
	}
	if err == nil && code != 230 {
		err = fmt.Errorf("login as %s: %d", fixtureUser, code)
	}
	return err
}

// pasv asks for a passive endpoint (EPSV first, then PASV), on the
// control connection's host.
func (k *ctl) pasv() (string, error) {
	host, _, _ := net.SplitHostPort(k.c.RemoteAddr().String())
	code, text, err := k.cmd("EPSV")
	if err == nil && code == 229 {
		if p, ok := epsvPort(text); ok {
			return net.JoinHostPort(host, fmt.Sprint(p)), nil
		}
	}
	code, text, err = k.cmd("PASV")
	if err != nil {
		return "", err
	}
	ap, ok := pasvAddr(text)
	if code != 227 || !ok {
		return "", fmt.Errorf("PASV: %d %q", code, text)
	}
	return ap, nil
}

// probeFTP is the legitimate client: log in, list the directory over a
// passive data connection, quit, all within ctx's deadline.
func probeFTP(ctx context.Context, service, addr string) error {
	if service != ftpService {
		return fmt.Errorf("ftp stress probe: no service %q", service)
	}
	var d dial.Dialer
	k, err := dialCtl(ctx, &d, addr, time.Second)
	if err != nil {
		return err
	}
	defer k.c.Close()
	if err := k.login(); err != nil {
		return err
	}
	dataAddr, err := k.pasv()
	if err != nil {
		return err
	}
	dc, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: dataAddr})
	if err != nil {
		return fmt.Errorf("data connection to %s: %w", dataAddr, err)
	}
	defer dc.Close()
	if dl, ok := ctx.Deadline(); ok {
		dc.SetDeadline(dl)
	}
	if _, err := io.WriteString(k.c, "NLST\r\n"); err != nil {
		return err
	}
	got := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, io.LimitReader(dc, 1<<20)); got <- err }()
	code, text, err := k.reply()
	if err != nil {
		return err
	}
	if code != 226 && code != 250 {
		return fmt.Errorf("NLST: %d %q", code, text)
	}
	if err := <-got; err != nil {
		return fmt.Errorf("NLST data: %w", err)
	}
	k.cmd("QUIT")
	return nil
}

// loggedIn opens n control connections (at most the budget's), logged in,
// eight at a time.
func loggedIn(ctx context.Context, ep dial.Endpoint, b stress.Budget, n int) ([]*ctl, int) {
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
					if err = k.login(); err != nil {
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

// neverOpenData logs in on many connections, asks for a passive data
// connection and a transfer on each, and never connects to it: the
// server must give up on the data connection (and its port) in time.
func neverOpenData() stress.Func {
	return stress.Func{
		AttackName: "never-open-data",
		AttackDoc:  "logs in on 64 connections, sends PASV and RETR of a fixture file on each and never opens the data connection, again every second",
		Svc:        ftpService,
		Fn: func(ctx context.Context, ep dial.Endpoint, b stress.Budget) (stress.Figures, error) {
			ks, fails := loggedIn(ctx, ep, b, 64)
			if len(ks) == 0 {
				return nil, fmt.Errorf("no connection logged in (%d failed)", fails)
			}
			defer closeCtls(ks)
			var asked, refused, replies atomic.Int64
			var wg sync.WaitGroup
			for _, k := range ks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						k.c.SetDeadline(time.Now().Add(b.Step))
						if _, err := io.WriteString(k.c, "PASV\r\nRETR "+fixtureFile+"\r\n"); err != nil {
							refused.Add(1)
							return
						}
						asked.Add(1)
						// Read what comes (227, then 425 or nothing) until quiet.
						for {
							k.c.SetReadDeadline(time.Now().Add(time.Second))
							if _, _, err := k.reply(); err != nil {
								break
							}
							replies.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			return stress.Figures{
				"connections_opened": float64(len(ks)),
				"login_failures":     float64(fails),
				"transfers_asked":    float64(asked.Load()),
				"replies":            float64(replies.Load()),
				"write_failures":     float64(refused.Load()),
			}, nil
		},
	}
}

// pasvFlood sends PASV a thousand times on each of a few connections: a
// server that opens a listener per PASV and never closes the previous
// one runs out of ports and descriptors.
func pasvFlood() stress.Func {
	return stress.Func{
		AttackName: "pasv-flood",
		AttackDoc:  "logs in on 8 connections and sends PASV 1000 times in a row on each (then again), reading the replies",
		Svc:        ftpService,
		Fn: func(ctx context.Context, ep dial.Endpoint, b stress.Budget) (stress.Figures, error) {
			ks, fails := loggedIn(ctx, ep, b, 8)
			if len(ks) == 0 {
				return nil, fmt.Errorf("no connection logged in (%d failed)", fails)
			}
			defer closeCtls(ks)
			var sent, ok227, other atomic.Int64
			var wg sync.WaitGroup
			batch := strings.Repeat("PASV\r\n", 50)
			for _, k := range ks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil && sent.Load()*6 < b.Bytes {
						for i := 0; i < 1000/50 && ctx.Err() == nil && sent.Load()*6 < b.Bytes; i++ {
							k.c.SetDeadline(time.Now().Add(b.Step))
							if _, err := io.WriteString(k.c, batch); err != nil {
								return
							}
							sent.Add(50)
							for j := 0; j < 50; j++ {
								code, _, err := k.reply()
								if err != nil {
									return
								}
								if code == 227 {
									ok227.Add(1)
								} else {
									other.Add(1)
								}
							}
						}
					}
				}()
			}
			wg.Wait()
			return stress.Figures{
				"connections_opened": float64(len(ks)),
				"login_failures":     float64(fails),
				"pasv_sent":          float64(sent.Load()),
				"pasv_227":           float64(ok227.Load()),
				"pasv_refused":       float64(other.Load()),
			}, nil
		},
	}
}

// slowDataReader stores a 4 MiB file in the fixture's upload directory,
// then opens passive data connections with a small receive buffer, asks
// for the file on each and never reads it: the server's data writes must
// time out.
func slowDataReader() stress.Func {
	return stress.Func{
		AttackName: "slow-data-reader",
		AttackDoc:  "stores a 4 MiB file, then logs in on 32 connections, opens a passive data connection with a 4 KiB receive buffer on each, sends RETR of the file and never reads the data",
		Svc:        ftpService,
		Fn: func(ctx context.Context, ep dial.Endpoint, b stress.Budget) (stress.Figures, error) {
			name := fmt.Sprintf("%s/protospec-stress-%d.bin", fixtureUpload, time.Now().UnixNano())
			if err := storeFile(ctx, ep, b, name, int(min(4<<20, b.Bytes))); err != nil {
				return nil, fmt.Errorf("storing the file to read slowly: %w", err)
			}
			defer removeFile(ep, b, name)
			ks, fails := loggedIn(ctx, ep, b, min(32, max(1, b.Conns/2))) // and a data connection each
			if len(ks) == 0 {
				return nil, fmt.Errorf("no connection logged in (%d failed)", fails)
			}
			defer closeCtls(ks)
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
			var mu sync.Mutex
			var datas []net.Conn
			defer func() {
				mu.Lock()
				for _, c := range datas {
					c.Close()
				}
				mu.Unlock()
			}()
			var opened, started atomic.Int64
			var wg sync.WaitGroup
			for _, k := range ks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k.c.SetDeadline(time.Now().Add(2 * b.Step))
					if code, _, err := k.cmd("TYPE I"); err != nil || code != 200 {
						return
					}
					addr, err := k.pasv()
					if err != nil {
						return
					}
					dc, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
					if err != nil {
						return
					}
					mu.Lock()
					datas = append(datas, dc)
					mu.Unlock()
					opened.Add(1)
					if _, err := io.WriteString(k.c, "RETR "+name+"\r\n"); err == nil {
						started.Add(1)
					}
				}()
			}
			wg.Wait()
			<-ctx.Done()
			return stress.Figures{
				"connections_opened": float64(len(ks)),
				"login_failures":     float64(fails),
				"data_connections":   float64(opened.Load()),
				"transfers_started":  float64(started.Load()),
			}, nil
		},
	}
}

// storeFile stores size bytes as name over a passive data connection.
func storeFile(ctx context.Context, ep dial.Endpoint, b stress.Budget, name string, size int) error {
	sctx, cancel := context.WithTimeout(ctx, 4*b.Step)
	defer cancel()
	k, err := dialCtl(sctx, b.Dialer, ep.Addr, b.Step)
	if err != nil {
		return err
	}
	defer k.c.Close()
	if err := k.login(); err != nil {
		return err
	}
	if code, text, err := k.cmd("TYPE I"); err != nil || code != 200 {
		return fmt.Errorf("TYPE I: %d %q %v", code, text, err)
	}
	addr, err := k.pasv()
	if err != nil {
		return err
	}
	dc, err := b.Dialer.Dial(sctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return err
	}
	defer dc.Close()
	if dl, ok := sctx.Deadline(); ok {
		dc.SetDeadline(dl)
	}
	if _, err := io.WriteString(k.c, "STOR "+name+"\r\n"); err != nil {
		return err
	}
	if _, err := dc.Write(make([]byte, size)); err != nil {
		return err
	}
	dc.Close()
	code, text, err := k.reply()
	if err == nil && code != 226 && code != 250 {
		err = fmt.Errorf("STOR %s: %d %q", name, code, text)
	}
	return err
}

// removeFile deletes name, best effort.
func removeFile(ep dial.Endpoint, b stress.Budget, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*b.Step)
	defer cancel()
	k, err := dialCtl(ctx, b.Dialer, ep.Addr, b.Step)
	if err != nil {
		return
	}
	defer k.c.Close()
	if k.login() == nil {
		k.cmd("DELE " + name)
		k.cmd("QUIT")
	}
}
