package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Resolver is what the relay asks for the mail exchangers of a domain
// (and their addresses). Tests give a loopback DNS server's resolver.
type Resolver interface {
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// DefaultRetrySchedule is the wait before each further attempt at a
// temporarily failing delivery; past its end the message is bounced.
var DefaultRetrySchedule = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 8 * time.Hour, 24 * time.Hour}

// queued is the envelope of a queued message: the sidecar <id>.json of
// the message file <id>.eml.
type queued struct {
	From     string    `json:"from"`
	Rcpts    []string  `json:"rcpts"`
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next"`
}

func (s *Server) queueDir() string {
	if s.QueueDir != "" {
		return s.QueueDir
	}
	return filepath.Join(s.Store.Root(), ".queue")
}

// relayAllowed tells whether a client may relay: relaying is on, and the
// client authenticated or comes from a RelayNets network.
func (s *Server) relayAllowed(authUser, ip string) bool {
	if !s.Relay {
		return false
	}
	if authUser != "" {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range s.RelayNets {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

func writeDurable(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// enqueue commits msg for rcpts to the queue: the message file first,
// then its envelope (a message without an envelope is never sent), each
// written to a temporary file, synced, renamed and the directory synced.
func (s *Server) enqueue(from string, rcpts []string, msg []byte) (string, error) {
	dir := s.queueDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	var b [8]byte
	rand.Read(b[:])
	id := strconv.FormatInt(time.Now().UnixNano(), 36) + hex.EncodeToString(b[:])
	if err := writeDurable(filepath.Join(dir, id+".eml"), msg); err != nil {
		return "", err
	}
	env, _ := json.Marshal(queued{From: from, Rcpts: rcpts, Next: time.Now()})
	if err := writeDurable(filepath.Join(dir, id+".json"), env); err != nil {
		os.Remove(filepath.Join(dir, id+".eml"))
		return "", err
	}
	s.kickRelay()
	return id, nil
}

func (s *Server) kickRelay() {
	if s.relayKick != nil {
		select {
		case s.relayKick <- struct{}{}:
		default:
		}
	}
}

// startRelay starts the relay worker once (on the first Serve): it picks
// up what the queue already holds, so a queue survives a restart.
func (s *Server) startRelay() {
	if !s.Relay {
		return
	}
	s.relayOnce.Do(func() {
		s.relayKick = make(chan struct{}, 1)
		s.relayStop = make(chan struct{})
		s.relayDone = make(chan struct{})
		go s.relayLoop()
	})
}

func (s *Server) relayLoop() {
	defer close(s.relayDone)
	tick := time.NewTicker(orDur(s.RelayPoll, time.Second))
	defer tick.Stop()
	for {
		if !s.RelayPaused.Load() {
			s.runQueue()
		}
		select {
		case <-s.relayStop:
			return
		case <-tick.C:
		case <-s.relayKick:
		}
	}
}

func (s *Server) stopRelay() {
	s.relayOnce.Do(func() {}) // no worker starts after Close
	s.relayStopOnce.Do(func() {
		if s.relayStop != nil {
			close(s.relayStop)
			<-s.relayDone
		}
	})
}

// runQueue attempts every queued message that is due.
func (s *Server) runQueue() {
	dir := s.queueDir()
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(names)
	for _, envPath := range names {
		select {
		case <-s.relayStop:
			return
		default:
		}
		raw, err := os.ReadFile(envPath)
		if err != nil {
			continue
		}
		var q queued
		if json.Unmarshal(raw, &q) != nil {
			continue
		}
		if time.Now().Before(q.Next) {
			continue
		}
		msgPath := strings.TrimSuffix(envPath, ".json") + ".eml"
		msg, err := os.ReadFile(msgPath)
		if err != nil {
			continue
		}
		s.attempt(envPath, msgPath, q, msg)
	}
}

// attempt tries each recipient domain of a queued message once; what
// failed temporarily stays queued for the next retry, what failed for
// good (or ran out of retries) is bounced.
func (s *Server) attempt(envPath, msgPath string, q queued, msg []byte) {
	byDomain := map[string][]string{}
	var order []string
	for _, r := range q.Rcpts {
		_, d, _ := strings.Cut(r, "@")
		d = strings.ToLower(d)
		if _, ok := byDomain[d]; !ok {
			order = append(order, d)
		}
		byDomain[d] = append(byDomain[d], r)
	}
	sched := s.RetrySchedule
	if sched == nil {
		sched = DefaultRetrySchedule
	}
	var later []string
	var failed []string
	var reasons []string
	for _, d := range order {
		rcpts := byDomain[d]
		err := s.deliverDomain(d, q.From, rcpts, msg)
		if err == nil {
			s.logf("smtp: relay: delivered to %s", strings.Join(rcpts, ", "))
			continue
		}
		var pe *permError
		if errors.As(err, &pe) || q.Attempts >= len(sched) {
			failed = append(failed, rcpts...)
			reasons = append(reasons, err.Error())
			continue
		}
		s.logf("smtp: relay: %s: deferred: %v", d, err)
		later = append(later, rcpts...)
	}
	if len(failed) > 0 {
		s.bounce(q.From, failed, strings.Join(reasons, "\n"), msg)
	}
	if len(later) == 0 {
		os.Remove(envPath)
		os.Remove(msgPath)
		return
	}
	q.Rcpts = later
	q.Next = time.Now().Add(sched[min(q.Attempts, len(sched)-1)])
	q.Attempts++
	env, _ := json.Marshal(q)
	if err := writeDurable(envPath, env); err != nil {
		s.logf("smtp: relay: requeue: %v", err)
	}
}

// permError is a 5xx of the far end: the delivery is not retried.
type permError struct{ err error }

func (e *permError) Error() string { return e.err.Error() }

// deliverDomain sends msg to the mail exchangers of domain in order of
// preference, falling back to the next on a connection failure or a 4xx,
// and to the domain's own address when it has no MX (RFC 5321 5.1).
func (s *Server) deliverDomain(domain, from string, rcpts []string, msg []byte) error {
	if s.Resolver == nil {
		return errors.New("no resolver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var hosts []string
	mxs, err := s.Resolver.LookupMX(ctx, domain)
	if err == nil && len(mxs) > 0 {
		sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
		for _, mx := range mxs {
			h := strings.TrimSuffix(mx.Host, ".")
			if h == "" { // null MX (RFC 7505): the domain takes no mail
				return &permError{fmt.Errorf("%s: null MX, the domain accepts no mail", domain)}
			}
			hosts = append(hosts, h)
		}
	} else {
		hosts = []string{domain}
	}
	port := strconv.Itoa(orInt(s.RelayPort, 25))
	var last error = fmt.Errorf("%s: no mail exchanger", domain)
	for _, h := range hosts {
		addrs, err := s.Resolver.LookupHost(ctx, h)
		if err != nil {
			last = fmt.Errorf("%s: %v", h, err)
			continue
		}
		for _, a := range addrs {
			err := s.sendTo(net.JoinHostPort(a, port), from, rcpts, msg)
			if err == nil {
				return nil
			}
			last = err
			var pe *permError
			if errors.As(err, &pe) {
				return err
			}
		}
	}
	return last
}

// sendTo is one SMTP client transaction. STARTTLS is used when offered;
// the certificate is verified except for a peer on a loopback address
// (the tests' MTAs present a fixture certificate).
func (s *Server) sendTo(addr, from string, rcpts []string, msg []byte) (err error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return classify(err)
	}
	defer c.Close()
	if err := c.Hello(s.hostname()); err != nil {
		return classify(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		ip, _ := netip.ParseAddr(host)
		cfg := &tls.Config{ServerName: host, InsecureSkipVerify: ip.IsLoopback()}
		if err := c.StartTLS(cfg); err != nil {
			return classify(err)
		}
	}
	if err := c.Mail(from); err != nil {
		return classify(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return classify(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify(err)
	}
	if err := w.Close(); err != nil {
		return classify(err)
	}
	c.Quit()
	return nil
}

func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &permError{err}
	}
	return err
}

// bounce sends a failure notice to the reverse-path, from the null
// reverse-path; a bounce (from <>) is never bounced.
func (s *Server) bounce(from string, failed []string, reason string, msg []byte) {
	if from == "" {
		s.logf("smtp: relay: not bouncing a bounce for %s", strings.Join(failed, ", "))
		return
	}
	hdr, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	var b strings.Builder
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", s.hostname())
	fmt.Fprintf(&b, "To: <%s>\r\n", from)
	b.WriteString("Subject: Undelivered Mail Returned to Sender\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	b.WriteString("Auto-Submitted: auto-replied\r\n\r\n")
	fmt.Fprintf(&b, "The message could not be delivered to: %s\r\n\r\n", strings.Join(failed, ", "))
	for _, l := range strings.Split(reason, "\n") {
		b.WriteString("  " + strings.TrimRight(l, "\r") + "\r\n")
	}
	b.WriteString("\r\n--- Original message headers ---\r\n\r\n")
	b.WriteString(hdr + "\r\n")
	notice := []byte(b.String())
	_, d, _ := strings.Cut(strings.ToLower(from), "@")
	if s.domains[d] {
		if box, ok := s.mailboxes[strings.ToLower(from)]; ok {
			if _, err := s.Store.Deliver(box, notice); err != nil {
				s.logf("smtp: relay: bounce: %v", err)
			}
		}
		return
	}
	if _, err := s.enqueue("", []string{from}, notice); err != nil {
		s.logf("smtp: relay: bounce: %v", err)
	}
}

// RelaySpool is the mailbox a message for relayed recipients is first
// committed to (with the local recipients' copies, by DATA or BDAT alike);
// queueSpooled then moves it into the queue before the 250. A crash in
// between leaves the message in this mailbox, not lost.
const RelaySpool = "relay-spool"

// queueSpooled moves message id of RelaySpool into the queue for the
// relayed recipients (none: nothing to do). The Return-Path field the
// session put first is dropped: it belongs to the final delivery (RFC
// 5321 4.4); the Received field stays.
func (s *Server) queueSpooled(id, from string, relay []string) error {
	if len(relay) == 0 {
		return nil
	}
	msg, err := s.Store.Read(RelaySpool, id)
	if err != nil {
		return err
	}
	if len(msg) >= 12 && strings.EqualFold(string(msg[:12]), "Return-Path:") {
		if i := strings.Index(string(msg), "\r\n"); i >= 0 {
			msg = msg[i+2:]
		}
	}
	if _, err := s.enqueue(from, relay, msg); err != nil {
		return err
	}
	return s.Store.Delete(RelaySpool, id)
}
