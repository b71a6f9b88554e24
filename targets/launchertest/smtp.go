package launchertest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netsmtp "net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
)

// smtpTimeout bounds one SMTP session of the launcher tests, and
// deliveryTimeout the wait for a delivery to show in the store (a
// server queues what it accepted and delivers it after the 250).
const (
	smtpTimeout     = 10 * time.Second
	deliveryTimeout = 15 * time.Second
)

// ehloKeywords are the EHLO keywords that announce each feature.
var ehloKeywords = map[string]string{
	smtp.FeatureSTARTTLS:      "STARTTLS",
	smtp.FeaturePipelining:    "PIPELINING",
	smtp.FeatureSize:          "SIZE",
	smtp.Feature8BitMIME:      "8BITMIME",
	smtp.FeatureEnhancedCodes: "ENHANCEDSTATUSCODES",
	smtp.FeatureSMTPUTF8:      "SMTPUTF8",
	smtp.FeatureChunking:      "CHUNKING",
	smtp.FeatureDSN:           "DSN",
}

// DialSMTP opens an SMTP session with the target's smtp/tcp, greeted and
// past EHLO, every exchange within smtpTimeout.
func DialSMTP(t testing.TB, tg targets.Target) *netsmtp.Client {
	t.Helper()
	ep, err := tg.Endpoint(smtp.ServiceTCP)
	if err != nil {
		t.Fatal(err)
	}
	c, err := (&dial.Dialer{Timeout: smtpTimeout}).Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: ep.Addr})
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(smtpTimeout))
	cl, err := netsmtp.NewClient(c, "localhost")
	if err != nil {
		c.Close()
		t.Fatalf("greeting: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	if err := cl.Hello("launchertest.protospec.test"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	return cl
}

// Send sends one message from a client address to rcpt in cl's session
// and returns the error of the first command refused.
func Send(cl *netsmtp.Client, rcpt, body string) error {
	if err := cl.Mail("launchertest@client.protospec.test"); err != nil {
		return fmt.Errorf("MAIL: %w", err)
	}
	if err := cl.Rcpt(rcpt); err != nil {
		return fmt.Errorf("RCPT: %w", err)
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := fmt.Fprintf(w, "From: <launchertest@client.protospec.test>\r\nTo: <%s>\r\nSubject: launcher test\r\n\r\n%s\r\n", rcpt, body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	return nil
}

// WaitDelivery waits until a message holding marker is in mailbox's new/
// of the target's Maildir store, and returns its path.
func WaitDelivery(t testing.TB, tg targets.Target, mailbox, marker string) string {
	t.Helper()
	d, ok := tg.(targets.Directories)
	if !ok {
		t.Fatalf("the target %T has no directories", tg)
	}
	root, err := d.Dir(smtp.DirMaildir)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(deliveryTimeout)
	for {
		files, _ := filepath.Glob(filepath.Join(root, mailbox, "new", "*"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), marker) {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message with %q in %s/%s/new after %v (found %v)", marker, root, mailbox, deliveryTimeout, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SMTPServes checks an SMTP launcher's running target against the
// fixture: EHLO announces what its features say (STARTTLS, PIPELINING...)
// and nothing they deny; mail for each fixture address is delivered into
// its mailbox of the Maildir store (smtp.DirMaildir), in plain text and
// after STARTTLS with the run's certificate fx; mail for another domain
// (relaying) and for an unknown user of a fixture domain is refused with
// 5xx at RCPT; VRFY confirms bob when smtp/vrfy is offered; AUTH is
// announced inside TLS only, as smtp/auth says, where bob logs in and a
// wrong password does not.
func SMTPServes(t *testing.T, tg targets.Target, fx *tlsfixture.Fixture) {
	t.Helper()
	cl := DialSMTP(t, tg)
	for f, kw := range ehloKeywords {
		ok, _ := cl.Extension(kw)
		if offered := tg.Feature(f) == nil; ok != offered {
			t.Errorf("EHLO announces %s: %v, but feature %s offered: %v", kw, ok, f, offered)
		}
	}
	for _, m := range []struct{ addr, mailbox string }{
		{smtp.AddressBob, "bob"}, {smtp.AddressAlice, "alice"}, {smtp.PostmasterBob, "postmaster"},
	} {
		marker := fmt.Sprintf("plain delivery to %s at %d", m.addr, time.Now().UnixNano())
		if err := Send(cl, m.addr, marker); err != nil {
			t.Fatalf("to %s: %v", m.addr, err)
		}
		t.Logf("%s: delivered into %s", m.addr, WaitDelivery(t, tg, m.mailbox, marker))
	}
	if tg.Feature(smtp.FeatureVRFY) == nil {
		if err := cl.Verify(smtp.AddressBob); err != nil {
			t.Errorf("VRFY %s: %v, but feature %s is offered", smtp.AddressBob, err, smtp.FeatureVRFY)
		}
	}
	if ok, _ := cl.Extension("AUTH"); ok {
		t.Errorf("AUTH is announced before STARTTLS")
	}
	for _, rcpt := range []string{"someone@" + smtp.ForeignDomain, smtp.UnknownUserBob} {
		if err := cl.Reset(); err != nil {
			t.Fatal(err)
		}
		err := Send(cl, rcpt, "must be refused")
		var perr *textproto.Error
		if !errors.As(err, &perr) || perr.Code/100 != 5 || !strings.HasPrefix(err.Error(), "RCPT: ") {
			t.Errorf("to %s: %v, want a 5xx refusal of RCPT", rcpt, err)
		}
	}
	cl.Quit()

	if tg.Feature(smtp.FeatureSTARTTLS) != nil {
		return
	}
	sec := DialSMTP(t, tg)
	if err := sec.StartTLS(&tls.Config{RootCAs: fx.Pool(), ServerName: "localhost"}); err != nil {
		t.Fatalf("STARTTLS with the run's certificate: %v", err)
	}
	ok, _ := sec.Extension("AUTH")
	if offered := tg.Feature(smtp.FeatureAuth) == nil; ok != offered {
		t.Errorf("EHLO inside TLS announces AUTH: %v, but feature %s offered: %v", ok, smtp.FeatureAuth, offered)
	}
	if ok {
		bad := DialSMTP(t, tg)
		if err := bad.StartTLS(&tls.Config{RootCAs: fx.Pool(), ServerName: "localhost"}); err != nil {
			t.Fatal(err)
		}
		if err := bad.Auth(netsmtp.PlainAuth("", "bob", "not-bob", "localhost")); err == nil {
			t.Errorf("AUTH PLAIN with a wrong password succeeded")
		}
		bad.Close()
		if err := sec.Auth(netsmtp.PlainAuth("", "bob", "bob", "localhost")); err != nil {
			t.Fatalf("AUTH PLAIN as bob: %v", err)
		}
	}
	marker := fmt.Sprintf("delivery over TLS at %d", time.Now().UnixNano())
	if err := Send(sec, smtp.AddressBob, marker); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	sec.Quit()
	WaitDelivery(t, tg, "bob", marker)
}

// SMTPLifecycle starts the SMTP launcher name with a TLS fixture of its
// own, checks SMTPServes, and that Close stops the server and removes its
// work directory, which holds conf.
func SMTPLifecycle(t *testing.T, name, conf string) {
	t.Helper()
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	tmp := TempRoot(t)
	// The servers reach the store as their own accounts: the test's
	// directories must let them pass.
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tg := Open(t, name, targets.Options{Protocol: smtp.Name, TLS: fx})
	dir := WorkDir(t, tmp, name, conf)
	SMTPServes(t, tg, fx)
	CloseStops(t, tg, dir)
}
