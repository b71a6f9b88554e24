package ftp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/netutil"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// transfer is one running data transfer.
type transfer struct {
	verb    string
	bytes   atomic.Int64
	aborted atomic.Bool
	done    chan struct{}

	mu   sync.Mutex
	conn net.Conn
	stop bool
}

// setConn records the data connection, or closes it if the transfer
// was aborted before it opened.
func (x *transfer) setConn(c net.Conn) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stop {
		c.Close()
		return false
	}
	x.conn = c
	return true
}

func (x *transfer) abort() {
	x.aborted.Store(true)
	x.mu.Lock()
	x.stop = true
	if x.conn != nil {
		x.conn.Close()
	}
	x.mu.Unlock()
}

func (ss *session) currentTransfer() *transfer {
	ss.xmu.Lock()
	defer ss.xmu.Unlock()
	return ss.xfer
}

// abortTransfer stops a running transfer and waits for its reply.
func (ss *session) abortTransfer() {
	if x := ss.currentTransfer(); x != nil {
		x.abort()
		ss.closePassive()
		<-x.done
	}
}

// waitTransfer waits for a running transfer to end.
func (ss *session) waitTransfer() {
	if x := ss.currentTransfer(); x != nil {
		select {
		case <-x.done:
		case <-ss.done:
			x.abort()
			<-x.done
		}
	}
}

func (ss *session) closePassive() {
	ss.xmu.Lock()
	l := ss.pasv
	ss.pasv = nil
	ss.xmu.Unlock()
	if l != nil {
		l.Close()
	}
}

// closeData forgets the data connection set-up (PASV listener or PORT).
func (ss *session) closeData() {
	ss.closePassive()
	ss.port = netipZero
}

func (ss *session) cmdABOR(string) error {
	if x := ss.currentTransfer(); x != nil {
		// RFC 959 4.1.3: the server aborts the transfer, closes the data
		// connection, answers the transfer command 426, then ABOR 226.
		ss.abortTransfer()
		return ss.reply(226, "ABOR command successful.")
	}
	ss.closeData()
	return ss.reply(226, "No transfer to abort.")
}

// startTransfer sends 150 and runs fn over the data connection in the
// background, then the final reply fn returns (or 425 if the connection
// cannot be made, 426 if aborted). The control loop goes on reading (ABOR,
// STAT).
//
// cleanup, if set, runs when fn does not (no data connection, an abort
// before it opened): it releases what the command prepared for fn.
func (ss *session) startTransfer(verb, mark string, fn func(c net.Conn, x *transfer) (int, string), cleanup func()) (bool, error) {
	if cleanup == nil {
		cleanup = func() {}
	}
	ss.xmu.Lock()
	l, target := ss.pasv, ss.port
	ss.pasv, ss.port = nil, netipZero
	ss.xmu.Unlock()
	if l == nil && !target.IsValid() {
		cleanup()
		return false, ss.reply(425, "Use PORT, EPRT, PASV or EPSV first.")
	}
	x := &transfer{verb: verb, done: make(chan struct{})}
	ss.xmu.Lock()
	ss.xfer = x
	ss.xmu.Unlock()
	text := "Opening data connection."
	if mark != "" {
		text = mark
	}
	if err := ss.reply(150, text); err != nil {
		ss.xmu.Lock()
		ss.xfer = nil
		ss.xmu.Unlock()
		close(x.done)
		if l != nil {
			l.Close()
		}
		cleanup()
		return false, err
	}
	go func() {
		ran := false
		code, msg := ss.runTransfer(x, l, target, func(c net.Conn, x *transfer) (int, string) {
			ran = true
			return fn(c, x)
		})
		if !ran {
			cleanup()
		}
		if x.aborted.Load() && code < 400 {
			code, msg = 426, "Connection closed; transfer aborted."
		}
		ss.xmu.Lock()
		ss.xfer = nil
		ss.reply(code, msg)
		ss.xmu.Unlock()
		close(x.done)
	}()
	return true, nil
}

func (ss *session) runTransfer(x *transfer, l net.Listener, target netipAddrPort, fn func(net.Conn, *transfer) (int, string)) (int, string) {
	c, err := ss.openData(x, l, target)
	if err != nil {
		if x.aborted.Load() {
			return 426, "Connection closed; transfer aborted."
		}
		return 425, "Cannot open data connection."
	}
	if !x.setConn(c) {
		return 426, "Connection closed; transfer aborted."
	}
	code, msg := fn(c, x)
	if cerr := c.Close(); cerr != nil && code < 400 && !errors.Is(cerr, net.ErrClosed) {
		code, msg = 426, "Connection closed; transfer aborted."
	}
	return code, msg
}

// openData makes the data connection: accepts on the passive listener
// only the control connection's peer (RFC 2577 5: others are closed, the
// wait goes on until DataTimeout), or dials the PORT/EPRT address from the
// control connection's local address; with PROT P it runs the TLS
// handshake as server.
func (ss *session) openData(x *transfer, l net.Listener, target netipAddrPort) (net.Conn, error) {
	deadline := time.Now().Add(ss.s.dataWait())
	var c net.Conn
	if l != nil {
		defer l.Close()
		// An abort closes the listener through the transfer's conn slot.
		x.mu.Lock()
		stopped := x.stop
		x.conn = listenerCloser{l}
		x.mu.Unlock()
		if stopped {
			return nil, errors.New("aborted")
		}
		if tl, ok := l.(*net.TCPListener); ok {
			tl.SetDeadline(deadline)
		}
		for {
			nc, err := l.Accept()
			if err != nil {
				return nil, err
			}
			if netutil.ClientAddr(nc.RemoteAddr()) != ss.peer {
				ss.s.logf("passive data connection from %s refused (control peer %s)", nc.RemoteAddr(), ss.peer)
				nc.Close()
				continue
			}
			c = nc
			break
		}
		x.mu.Lock()
		x.conn = nil
		x.mu.Unlock()
	} else {
		d := dial.Dialer{Timeout: time.Until(deadline), Source: ss.local.String()}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		go func() {
			select {
			case <-ctx.Done():
			case <-ss.done:
				cancel()
			}
		}()
		nc, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: target.String()})
		cancel()
		if err != nil {
			return nil, err
		}
		c = nc
	}
	if ss.protP {
		tc := tls.Server(c, ss.tlsConfig())
		c.SetDeadline(deadline)
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		c.SetDeadline(time.Time{})
		c = tc
	}
	return c, nil
}

// listenerCloser lets an abort close a passive listener in the conn slot.
type listenerCloser struct{ net.Listener }

func (l listenerCloser) Read([]byte) (int, error)         { return 0, net.ErrClosed }
func (l listenerCloser) Write([]byte) (int, error)        { return 0, net.ErrClosed }
func (l listenerCloser) LocalAddr() net.Addr              { return l.Addr() }
func (l listenerCloser) RemoteAddr() net.Addr             { return l.Addr() }
func (l listenerCloser) SetDeadline(time.Time) error      { return nil }
func (l listenerCloser) SetReadDeadline(time.Time) error  { return nil }
func (l listenerCloser) SetWriteDeadline(time.Time) error { return nil }

// stallWriter sets a fresh write deadline before every write: a reader
// that takes no data for StallTimeout ends the transfer.
type stallWriter struct {
	c     net.Conn
	stall time.Duration
	x     *transfer
}

func (w stallWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(w.stall))
	n, err := w.c.Write(p)
	w.x.bytes.Add(int64(n))
	return n, err
}

type stallReader struct {
	c     net.Conn
	stall time.Duration
	x     *transfer
}

func (r stallReader) Read(p []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(r.stall))
	n, err := r.c.Read(p)
	r.x.bytes.Add(int64(n))
	return n, err
}

func (ss *session) takeRest() int64 {
	n := ss.rest
	ss.rest = 0
	return n
}

func (ss *session) cmdRETR(arg string) error {
	rest := ss.takeRest()
	_, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, "No such file.")
	}
	f, err := ss.root.Open(name)
	if err != nil {
		return ss.reply(550, "No such file.")
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return ss.reply(550, "Not a plain file.")
	}
	typeA := ss.typeA
	if !typeA && rest > 0 {
		if rest > st.Size() {
			f.Close()
			return ss.reply(554, "Invalid REST parameter: beyond the end of the file.")
		}
		if _, err := f.Seek(rest, io.SeekStart); err != nil {
			f.Close()
			return ss.reply(554, "Invalid REST parameter.")
		}
	}
	mode := "BINARY"
	if typeA {
		mode = "ASCII"
	}
	_, err = ss.startTransfer("RETR", fmt.Sprintf("Opening %s mode data connection for %s (%d bytes).", mode, path.Base(name), st.Size()), func(c net.Conn, x *transfer) (int, string) {
		defer f.Close()
		var w io.Writer = stallWriter{c, ss.s.stall(), x}
		if typeA {
			if rest > 0 {
				// REST in TYPE A counts octets of the data stream
				// (RFC 3659 5): skip that many converted octets.
				w = &skipWriter{w: w, skip: rest}
			}
			w = ftpwire.NewASCIIWriter(w)
		}
		if _, err := io.CopyBuffer(w, f, make([]byte, 32<<10)); err != nil {
			if x.aborted.Load() {
				return 426, "Connection closed; transfer aborted."
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 426, "Data connection stalled; transfer aborted."
			}
			if isNetErr(err) {
				return 426, "Data connection lost; transfer aborted."
			}
			return 451, "Local error in processing."
		}
		return 226, "Transfer complete."
	}, func() { f.Close() })
	return err
}

// skipWriter drops the first skip bytes written to it.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip > 0 {
		k := min(int64(len(p)), s.skip)
		s.skip -= k
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, net.ErrClosed)
}

func (ss *session) cmdSTOR(arg string) error { return ss.store("STOR", arg, false) }
func (ss *session) cmdAPPE(arg string) error { return ss.store("APPE", arg, true) }

func (ss *session) cmdSTOU(string) error {
	var b [6]byte
	rand.Read(b[:])
	name := "stou-" + hex.EncodeToString(b[:])
	return ss.store("STOU", name, false)
}

// store receives a file durably: into a hidden temporary file in the
// target's directory (with, for APPE or REST, the existing file's content
// first), fsync'ed, renamed over the target, the directory fsync'ed, and
// only then 226. An aborted, stalled or oversized upload leaves the
// target as it was.
func (ss *session) store(verb, arg string, appendTo bool) error {
	rest := ss.takeRest()
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(553, "File name not allowed.")
	}
	// RFC 959 5.4 lists 553 (and 532) for STOR, not 550.
	if !ss.writable(vpath, true) {
		return ss.reply(553, "File name not allowed: permission denied.")
	}
	if st, err := ss.root.Stat(name); err == nil && !st.Mode().IsRegular() {
		return ss.reply(553, "File name not allowed: not a plain file.")
	}
	keep := int64(-1) // bytes of the old file to keep; -1 none
	if appendTo || rest > 0 {
		st, err := ss.root.Stat(name)
		if err == nil && rest > 0 && ss.typeA {
			// REST counts octets of the data stream (RFC 3659 5): in
			// TYPE A the file's own offset is where that many converted
			// octets end.
			off, ok := ss.asciiOffset(name, rest)
			if !ok {
				return ss.reply(554, "Invalid REST parameter for TYPE A.")
			}
			rest = off
		}
		switch {
		case err == nil && rest > 0 && rest > st.Size():
			return ss.reply(554, "Invalid REST parameter: beyond the end of the file.")
		case err == nil && rest > 0:
			keep = rest
		case err == nil:
			keep = st.Size()
		case rest > 0:
			return ss.reply(554, "Invalid REST parameter: no such file.")
		}
	}
	limit := ss.s.maxUpload()
	entries, used := ss.usage()
	var oldSize int64
	st, statErr := ss.root.Stat(name)
	if statErr == nil {
		oldSize = st.Size()
	} else if entries >= ss.s.maxUploadFiles() {
		return ss.reply(552, "Exceeded storage allocation: too many files.")
	}
	// The area's total after the upload: the old file's bytes go, the
	// kept ones and the new ones come.
	if room := ss.s.maxUploadTotal() - (used - oldSize); room < limit {
		limit = max(room, 0)
	}
	if keep > limit {
		return ss.reply(552, "Exceeded storage allocation.")
	}
	dir := path.Dir(name)
	var rnd [8]byte
	rand.Read(rnd[:])
	tmpName := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
	tmp, err := ss.root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return ss.reply(553, "Cannot create the file.")
	}
	fail := func() { tmp.Close(); ss.root.Remove(tmpName) }
	if keep > 0 {
		old, err := ss.root.Open(name)
		if err != nil {
			fail()
			return ss.reply(451, "Local error in processing.")
		}
		_, err = io.CopyN(tmp, old, keep)
		old.Close()
		if err != nil {
			fail()
			return ss.reply(451, "Local error in processing.")
		}
	}
	typeA := ss.typeA
	mark := ""
	if verb == "STOU" {
		// RFC 1123 4.1.2.9: the reply to STOU names the file.
		mark = "FILE: " + path.Base(name)
	}
	_, err = ss.startTransfer(verb, mark, func(c net.Conn, x *transfer) (int, string) {
		var r io.Reader = stallReader{c, ss.s.stall(), x}
		if typeA {
			r = ftpwire.NewASCIIReader(r)
		}
		room := limit - max(keep, 0)
		n, err := io.CopyBuffer(tmp, io.LimitReader(r, room+1), make([]byte, 32<<10))
		switch {
		case err == nil && n > room:
			fail()
			return 552, "Exceeded storage allocation; transfer aborted."
		case err != nil || x.aborted.Load():
			fail()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 426, "Data connection stalled; transfer aborted."
			}
			if err != nil && !isNetErr(err) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return 451, "Local error in processing."
			}
			return 426, "Connection closed; transfer aborted."
		}
		// The data connection ended cleanly (EOF, or TLS close_notify):
		// the file is complete. Make it durable before saying so.
		if err := tmp.Sync(); err != nil {
			fail()
			return 451, "Local error: cannot sync the file."
		}
		if err := tmp.Close(); err != nil {
			ss.root.Remove(tmpName)
			return 451, "Local error: cannot close the file."
		}
		if err := ss.root.Rename(tmpName, name); err != nil {
			ss.root.Remove(tmpName)
			return 451, "Local error: cannot rename the file."
		}
		if err := ss.syncDir(dir); err != nil {
			return 451, "Local error: cannot sync the directory."
		}
		if verb == "STOU" {
			return 226, "Transfer complete (unique file name: " + path.Base(name) + ")."
		}
		return 226, "Transfer complete."
	}, fail)
	return err
}

func (ss *session) cmdLIST(arg string) error { return ss.list("LIST", arg) }
func (ss *session) cmdNLST(arg string) error { return ss.list("NLST", arg) }
func (ss *session) cmdMLSD(arg string) error { return ss.list("MLSD", arg) }

// list sends a directory listing: LIST in "ls -l" form, NLST names only
// (RFC 959 4.1.3: "a list of file names"), MLSD facts (RFC 3659 7). Lines
// end with CRLF whatever the TYPE.
func (ss *session) list(verb, arg string) error {
	ss.takeRest()
	var vpath, name string
	var err error
	if verb == "MLSD" {
		vpath, name, err = ss.resolve(arg)
	} else {
		vpath, name, err = ss.listTarget(arg)
	}
	// RFC 959 5.4 lists 450, not 550, for LIST and NLST; RFC 3659 has
	// MLSD answer 550.
	missing := 450
	if verb == "MLSD" {
		missing = 550
	}
	if err != nil {
		return ss.reply(missing, "No such file or directory.")
	}
	st, err := ss.root.Stat(name)
	if err != nil {
		return ss.reply(missing, "No such file or directory.")
	}
	var ents []entry
	if st.IsDir() {
		if ents, err = ss.readDir(name); err != nil {
			return ss.reply(missing, "Cannot list the directory.")
		}
	} else if verb == "MLSD" {
		// RFC 3659 7.2.1: MLSD of a file is 501.
		return ss.reply(501, "MLSD needs a directory: use MLST for a file.")
	} else {
		ents = []entry{{path.Base(vpath), st}}
	}
	isDir := st.IsDir()
	_, err = ss.startTransfer(verb, "Here comes the directory listing.", func(c net.Conn, x *transfer) (int, string) {
		w := stallWriter{c, ss.s.stall(), x}
		now := time.Now()
		buf := make([]byte, 0, 32<<10)
		flush := func() error {
			_, err := w.Write(buf)
			buf = buf[:0]
			return err
		}
		if verb == "MLSD" && isDir {
			buf = append(buf, ss.facts(vpath, st, "cdir")+" "+"."+"\r\n"...)
		}
		for _, e := range ents {
			var line string
			switch verb {
			case "LIST":
				line = listLine(e, now)
			case "NLST":
				line = e.name
				if !isDir {
					line = arg
				}
			case "MLSD":
				line = ss.facts(path.Join(vpath, e.name), e.info, "") + " " + e.name
			}
			buf = append(buf, line+"\r\n"...)
			if len(buf) > 16<<10 {
				if err := flush(); err != nil {
					return 426, "Connection closed; transfer aborted."
				}
			}
		}
		if err := flush(); err != nil {
			return 426, "Connection closed; transfer aborted."
		}
		return 226, "Directory send OK (" + strconv.Itoa(len(ents)) + " entries)."
	}, nil)
	return err
}

// asciiOffset is the offset in the file name where its TYPE A form reaches
// wire octets; false when wire falls inside a CRLF made of an LF, or
// beyond the end.
func (ss *session) asciiOffset(name string, wire int64) (int64, bool) {
	f, err := ss.root.Open(name)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var disk, n int64
	prevCR := false
	buf := make([]byte, 32<<10)
	for n < wire {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if n == wire {
				return disk, true
			}
			step := int64(1)
			if b == '\n' && !prevCR {
				step = 2
			}
			if n+step > wire {
				return 0, false
			}
			n += step
			disk++
			prevCR = b == '\r'
		}
		if err != nil {
			break
		}
	}
	return disk, n == wire
}
