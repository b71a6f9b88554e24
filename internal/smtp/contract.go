// Package smtp is the contract of SMTP that every room of it shares
// (reference/smtp and, as they come, suites/smtp, fuzz/smtp, pcap/smtp and
// the launchers of real mail servers): its name, its services with their
// well-known ports, its features and params, the liveness probe, and the
// fixture: the mail fixture of internal/mailstore (the domains bob.test
// and alice.test, the users bob and alice, postmaster of each domain).
//
// Services: "smtp/tcp" is the mail transfer port 25 (RFC 5321), where
// STARTTLS (RFC 3207) may protect the session later (FeatureSTARTTLS).
// The submission port (RFC 6409, 587) is not a service of the contract
// yet: reference/smtp has AUTH and a Submission mode (ParamSubmission),
// but no launcher offers a second port.
//
// The contract is not yet registered with protocols/protocols.go: the
// suite, the pcap dissector, the fuzz model and the load client are still
// to come (protocols/rooms_test.go checks every room of a registered
// protocol).
//
//	if err := smtp.WriteFixture("/tmp/mail"); err != nil { ... }
//	// /tmp/mail/bob, /tmp/mail/alice, /tmp/mail/postmaster are Maildirs
package smtp

import (
	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/protocol"
)

// Name is the protocol's name in every registry and on the command line.
const Name = "smtp"

// ServiceTCP is the service key of the mail transfer port (STARTTLS may
// follow).
const ServiceTCP = "smtp/tcp"

// Features a target may lack (targets.Static.Features); a spec that needs
// one is skipped with the target's reason.
const (
	// FeatureSTARTTLS: EHLO announces STARTTLS (RFC 3207), with the run's
	// fixture certificate.
	FeatureSTARTTLS = "smtp/starttls"
	// FeaturePipelining: EHLO announces PIPELINING (RFC 2920).
	FeaturePipelining = "smtp/pipelining"
	// FeatureSize: EHLO announces SIZE with a limit (RFC 1870), and a
	// message over it is refused with 552.
	FeatureSize = "smtp/size"
	// Feature8BitMIME: EHLO announces 8BITMIME (RFC 6152).
	Feature8BitMIME = "smtp/8bitmime"
	// FeatureEnhancedCodes: EHLO announces ENHANCEDSTATUSCODES (RFC 2034)
	// and every reply after it carries an enhanced code.
	FeatureEnhancedCodes = "smtp/enhanced-codes"
	// FeatureSMTPUTF8: EHLO announces SMTPUTF8 (RFC 6531).
	FeatureSMTPUTF8 = "smtp/smtputf8"
	// FeatureVRFY: VRFY of a fixture address is answered 250 or 251
	// (RFC 5321 3.5.3); without it, 252 and 550 are what the specs accept.
	FeatureVRFY = "smtp/vrfy"
	// FeatureAuth: after STARTTLS, EHLO announces AUTH with PLAIN and
	// LOGIN (RFC 4954), and the fixture users (bob/bob, alice/alice) log
	// in; before TLS, AUTH is not offered or refused.
	FeatureAuth = "smtp/auth"
	// FeatureChunking: EHLO announces CHUNKING and BDAT works (RFC 3030).
	FeatureChunking = "smtp/chunking"
	// FeatureDSN: EHLO announces DSN and MAIL/RCPT take RET, ENVID,
	// NOTIFY and ORCPT (RFC 3461).
	FeatureDSN = "smtp/dsn"
)

// DirMaildir is the name of the target directory (targets.Directories)
// holding the Maildir store the server delivers into, laid out as
// WriteFixture writes it (DIR/bob, DIR/alice, DIR/postmaster). Specs read
// it to see a delivery; a target without it (an address) skips them.
const DirMaildir = "smtp/maildir"

// Params of `protospec serve smtp` (and of the reference started for
// runs, through targets.Options.Params).
const (
	ParamMaildir  = "maildir"   // the store to deliver into (as WriteFixture writes it)
	ParamHostname = "hostname"  // the name in the greeting and in Received fields
	ParamCert     = "cert"      // PEM certificate chain (STARTTLS)
	ParamKey      = "key"       // PEM private key of ParamCert
	ParamCAOut    = "ca-out"    // where a new fixture's ca.pem, cert.pem and key.pem go
	ParamMaxSize  = "max-size"  // largest message (SIZE); beyond, 552
	ParamMaxConns = "max-conns" // concurrent sessions; beyond, 421

	ParamMaxConnsPerClient = "max-conns-per-client" // concurrent sessions of one client address; beyond, 421
	ParamMaxRecipients     = "max-recipients"       // RCPTs of one transaction; beyond, 452
	ParamCommandTimeout    = "command-timeout"      // silence between commands before 421
	ParamDataTimeout       = "data-timeout"         // silence inside the text before 421
	ParamSubmission        = "submission"           // "true": a submission server (RFC 6409), AUTH before MAIL
	ParamAuthFailDelay     = "auth-fail-delay"      // wait before each 535 to bad credentials
)

// Fixture addresses the suites use (internal/mailstore's fixture).
const (
	DomainBob       = "bob.test"
	DomainAlice     = "alice.test"
	AddressBob      = "bob@bob.test"
	AddressAlice    = "alice@alice.test"
	PostmasterBob   = "postmaster@bob.test"
	ForeignDomain   = "relay.invalid" // no target is the destination of it: a relay test
	UnknownUserBob  = "nobody-protospec@bob.test"
	DefaultMaxBytes = mailstore.DefaultMaxMessageBytes // the reference's SIZE limit unless max-size says otherwise
)

// Contract is SMTP's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "SMTP (RFC 5321, 3207, 1870, 6152, 2920, 2034, 3463, 6531, 4954, 3030, 3461)",
	Services: []protocol.Service{
		{Name: "smtp", Transport: "tcp", Port: 25},
	},
	Features: []protocol.Feature{
		{Name: FeatureSTARTTLS, Doc: "STARTTLS (RFC 3207) on smtp/tcp with the run's certificate"},
		{Name: FeaturePipelining, Doc: "PIPELINING (RFC 2920)"},
		{Name: FeatureSize, Doc: "SIZE (RFC 1870) with a limit, 552 beyond it"},
		{Name: Feature8BitMIME, Doc: "8BITMIME (RFC 6152)"},
		{Name: FeatureEnhancedCodes, Doc: "ENHANCEDSTATUSCODES (RFC 2034, RFC 3463)"},
		{Name: FeatureSMTPUTF8, Doc: "SMTPUTF8 (RFC 6531)", Optional: true},
		{Name: FeatureVRFY, Doc: "VRFY confirms the fixture's addresses (250/251) instead of 252", Optional: true},
		{Name: FeatureAuth, Doc: "AUTH PLAIN and LOGIN after STARTTLS (RFC 4954) for the fixture users"},
		{Name: FeatureChunking, Doc: "CHUNKING and BDAT (RFC 3030)", Optional: true},
		{Name: FeatureDSN, Doc: "DSN parameters of MAIL and RCPT (RFC 3461)", Optional: true},
	},
	Params: []protocol.Param{
		{Name: ParamMaildir, Doc: "serve: the Maildir store to deliver into, as the fixtures command writes it", Default: "a temporary copy of the fixture"},
		{Name: ParamHostname, Doc: "serve: the name in the greeting and in Received fields", Default: "localhost"},
		{Name: ParamCert, Doc: "serve: the PEM certificate chain for STARTTLS", Default: "a new fixture leaf for localhost, 127.0.0.1 and ::1"},
		{Name: ParamKey, Doc: "serve: the PEM key of cert"},
		{Name: ParamCAOut, Doc: "serve: with no cert, where the new fixture's ca.pem, cert.pem and key.pem go", Default: "a new temporary directory"},
		{Name: ParamMaxSize, Doc: "serve: largest message in octets (SIZE); beyond, 552", Default: "10485760"},
		{Name: ParamMaxConns, Doc: "serve: concurrent sessions; beyond, 421 and close", Default: "64"},
		{Name: ParamMaxConnsPerClient, Doc: "serve: concurrent sessions of one client address; beyond, 421 and close", Default: "8"},
		{Name: ParamMaxRecipients, Doc: "serve: recipients of one transaction; beyond, 452", Default: "100"},
		{Name: ParamCommandTimeout, Doc: "serve: silence of the client between commands before 421 and close", Default: "5m"},
		{Name: ParamDataTimeout, Doc: "serve: silence of the client inside the text before 421 and close", Default: "5m"},
		{Name: ParamSubmission, Doc: "serve: true makes a submission server (RFC 6409): MAIL needs AUTH first (530)", Default: "false"},
		{Name: ParamAuthFailDelay, Doc: "serve: wait before each 535 to bad AUTH credentials", Default: "1s"},
	},
	Probe:   LivenessProbe,
	Fixture: WriteFixture,
})

// WriteFixture writes the mail fixture into dir: an empty Maildir for
// every mailbox of internal/mailstore's fixture (bob, alice, postmaster),
// where a server delivers the fixture addresses' mail.
func WriteFixture(dir string) error {
	st, err := mailstore.Open(dir, DefaultMaxBytes)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, mb := range mailstore.FixtureMailboxes() {
		if seen[mb] {
			continue
		}
		seen[mb] = true
		if err := st.Create(mb); err != nil {
			return err
		}
	}
	return nil
}
