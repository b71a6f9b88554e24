// Package pop3 is the contract of POP3 that every room of it shares
// (reference/pop3 and, as they come, suites/pop3, fuzz/pop3, pcap/pop3 and
// the launchers of real mail servers): its name, its services with their
// well-known ports, its features and params, the liveness probe, and the
// fixture: the mail fixture of internal/mailstore (the users bob/bob and
// alice/alice, whose mailboxes are their maildrops) with the messages of
// FixtureMessages delivered into them.
//
// Services: "pop3/tcp" is port 110 (RFC 1939), where STLS (RFC 2595) may
// protect the session later (FeatureSTLS); "pop3/tls" is port 995, TLS
// from the first byte (RFC 8314 3.3's implicit TLS; protocol.OverTLS maps
// "pop3/tcp" to it).
//
// The contract is not yet registered with protocols/protocols.go: the
// suite, the pcap dissector, the fuzz model and the load client are still
// to come (protocols/rooms_test.go checks every room of a registered
// protocol).
//
//	if err := pop3.WriteFixture("/tmp/mail"); err != nil { ... }
//	// /tmp/mail/bob holds the three messages of FixtureMessages for bob,
//	// /tmp/mail/alice the one for alice, /tmp/mail/postmaster none
package pop3

import (
	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/protocol"
)

// Name is the protocol's name in every registry and on the command line.
const Name = "pop3"

// Service keys.
const (
	ServiceTCP = "pop3/tcp" // port 110, plain (STLS may follow)
	ServiceTLS = "pop3/tls" // port 995, TLS from the first byte (RFC 8314)
)

// Features a target may lack (targets.Static.Features); a spec that needs
// one is skipped with the target's reason.
const (
	// FeatureSTLS: CAPA lists STLS on pop3/tcp and STLS starts TLS with
	// the run's fixture certificate (RFC 2595 4).
	FeatureSTLS = "pop3/stls"
	// FeatureCAPA: the CAPA command (RFC 2449 5) answers a capability
	// list.
	FeatureCAPA = "pop3/capa"
	// FeatureRespCodes: CAPA lists RESP-CODES and AUTH-RESP-CODE, and
	// -ERR answers carry the codes of RFC 2449 8 and RFC 3206 ([IN-USE],
	// [AUTH], [SYS/TEMP]) where they apply.
	FeatureRespCodes = "pop3/resp-codes"
	// FeaturePipelining: CAPA lists PIPELINING (RFC 2449 6.6) and the
	// server answers commands sent without waiting, in order.
	FeaturePipelining = "pop3/pipelining"
	// FeatureTOP: the TOP command (RFC 1939 7).
	FeatureTOP = "pop3/top"
	// FeatureUIDL: the UIDL command (RFC 1939 7), with unique-ids that
	// stay the same across sessions.
	FeatureUIDL = "pop3/uidl"
	// FeatureAPOP: the greeting carries a timestamp and APOP logs the
	// fixture users in with MD5(timestamp + password) (RFC 1939 7).
	FeatureAPOP = "pop3/apop"
	// FeatureSASLPlain: after STLS (or on pop3/tls), CAPA lists SASL
	// PLAIN and AUTH PLAIN logs the fixture users in, with an initial
	// response and with a continuation (RFC 5034, RFC 4616).
	FeatureSASLPlain = "pop3/sasl-plain"
	// FeaturePlaintextAuth: USER/PASS (and AUTH PLAIN with
	// FeatureSASLPlain) work on pop3/tcp before any STLS. RFC 8314 and
	// RFC 2595 discourage it; the reference allows it on loopback.
	FeaturePlaintextAuth = "pop3/plaintext-auth"
)

// Params of `protospec serve pop3` (and of the reference started for
// runs, through targets.Options.Params).
const (
	ParamMaildir  = "maildir"   // the store to serve (as WriteFixture writes it)
	ParamHostname = "hostname"  // the name in the greeting and its APOP timestamp
	ParamCert     = "cert"      // PEM certificate chain (STLS, pop3/tls)
	ParamKey      = "key"       // PEM private key of ParamCert
	ParamCAOut    = "ca-out"    // where a new fixture's ca.pem, cert.pem and key.pem go
	ParamMaxConns = "max-conns" // concurrent sessions; beyond, -ERR [SYS/TEMP] and close

	ParamMaxConnsPerClient = "max-conns-per-client" // concurrent sessions of one client address
	ParamIdleTimeout       = "idle-timeout"         // silence of the client before the server hangs up
	ParamLoginDelay        = "login-delay"          // wait before answering a failed login
	ParamPlaintextAuth     = "plaintext-auth"       // never, loopback or always: logins before TLS
)

// Values of ParamPlaintextAuth.
const (
	PlaintextNever    = "never"    // USER, PASS and AUTH only under TLS
	PlaintextLoopback = "loopback" // also before TLS when both ends are loopback addresses
	PlaintextAlways   = "always"   // also before TLS from anywhere
)

// Fixture logins (internal/mailstore's fixture users: the login is the
// mailbox's name).
const (
	UserBob       = "bob"
	PasswordBob   = "bob"
	UserAlice     = "alice"
	PasswordAlice = "alice"
)

// Contract is POP3's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "POP3 (RFC 1939, 2449, 2595, 3206, 5034, 8314)",
	Services: []protocol.Service{
		{Name: "pop3", Transport: "tcp", Port: 110},
		{Name: "pop3", Transport: "tls", Port: 995},
	},
	Features: []protocol.Feature{
		{Name: FeatureSTLS, Doc: "STLS (RFC 2595) on pop3/tcp with the run's certificate"},
		{Name: FeatureCAPA, Doc: "the CAPA command (RFC 2449)"},
		{Name: FeatureRespCodes, Doc: "RESP-CODES and AUTH-RESP-CODE: [IN-USE], [AUTH], [SYS/TEMP] (RFC 2449, RFC 3206)"},
		{Name: FeaturePipelining, Doc: "PIPELINING (RFC 2449)"},
		{Name: FeatureTOP, Doc: "the TOP command (RFC 1939)"},
		{Name: FeatureUIDL, Doc: "the UIDL command, unique-ids stable across sessions (RFC 1939)"},
		{Name: FeatureAPOP, Doc: "APOP with the greeting's timestamp for the fixture users (RFC 1939)", Optional: true},
		{Name: FeatureSASLPlain, Doc: "AUTH PLAIN under TLS for the fixture users (RFC 5034, RFC 4616)"},
		{Name: FeaturePlaintextAuth, Doc: "USER/PASS before TLS on pop3/tcp", Optional: true},
	},
	Params: []protocol.Param{
		{Name: ParamMaildir, Doc: "serve: the Maildir store to serve, as the fixtures command writes it", Default: "a temporary copy of the fixture"},
		{Name: ParamHostname, Doc: "serve: the name in the greeting and its APOP timestamp", Default: "localhost"},
		{Name: ParamCert, Doc: "serve: the PEM certificate chain for STLS and pop3/tls", Default: "a new fixture leaf for localhost, 127.0.0.1 and ::1"},
		{Name: ParamKey, Doc: "serve: the PEM key of cert"},
		{Name: ParamCAOut, Doc: "serve: with no cert, where the new fixture's ca.pem, cert.pem and key.pem go", Default: "a new temporary directory"},
		{Name: ParamMaxConns, Doc: "serve: concurrent sessions; beyond, -ERR [SYS/TEMP] and close", Default: "64"},
		{Name: ParamMaxConnsPerClient, Doc: "serve: concurrent sessions of one client address; beyond, -ERR [SYS/TEMP] and close", Default: "8"},
		{Name: ParamIdleTimeout, Doc: "serve: silence of the client before the server closes the connection, deleting nothing (RFC 1939 3: at least 10 minutes)", Default: "10m"},
		{Name: ParamLoginDelay, Doc: "serve: delay before answering a failed login", Default: "500ms"},
		{Name: ParamPlaintextAuth, Doc: "serve: where USER, PASS and AUTH work before TLS: never, loopback or always", Default: PlaintextLoopback},
	},
	Probe:   LivenessProbe,
	Fixture: WriteFixture,
})

// DefaultMaxBytes is the store's message size limit the fixture is
// written with.
const DefaultMaxBytes = mailstore.DefaultMaxMessageBytes
