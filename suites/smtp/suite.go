// Package smtp is the conformance suite of SMTP servers: RFC 5321 (lines,
// session initiation, EHLO and HELO, mail transactions, VRFY and EXPN,
// each command's replies, path syntax, the order of commands, reply
// syntax, trace fields, postmaster, transparency, size limits, timeouts,
// loop detection, relaying), RFC 3207 (STARTTLS and its command
// injection), RFC 1870 (SIZE), RFC 2920 (PIPELINING), RFC 6152
// (8BITMIME), RFC 2034 and RFC 3463 (enhanced status codes), RFC 6531
// (SMTPUTF8), RFC 4954 (AUTH), RFC 3030 (CHUNKING), RFC 3461 (DSN), and
// the hostile clients every server meets.
//
// Delivery specs read the target's Maildir store (the target directory
// smtp.DirMaildir) to see that a message acknowledged with 250 landed, as
// it was sent; against an address target, whose store is elsewhere, they
// are skipped. Every verifier accepts each reply the RFC allows (a class
// of codes, not the one code a given server sends).
//
//	protospec run smtp                         # against the embedded reference
//	protospec run smtp --label-filter 'rfc5321 && must'
//	protospec run smtp --focus 'smtp/rfc3207/.*'
//
// What a target must serve: mail for bob@bob.test, alice@alice.test and
// postmaster of both domains, delivered into the Maildirs bob, alice and
// postmaster (`protospec fixtures smtp`), and no relaying for
// relay.invalid.
//
// --tls: the contract declares no TLS service (smtp/tcp upgrades with
// STARTTLS, which the rfc3207 specs test on every run), so `run smtp
// --tls` is refused by the command line.
package smtp

import (
	"time"

	contract "github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/suites/spec"
)

// proto is the protocol's name in spec IDs.
const proto = contract.Name

var _ = spec.RegisterProtocol(spec.Protocol{
	Name:  proto,
	Title: "SMTP: RFC 5321, RFC 3207, RFC 1870, RFC 2920, RFC 6152, RFC 2034, RFC 3463, RFC 6531, RFC 4954, RFC 3030, RFC 3461",
	Docs:  []string{"rfc5321", "rfc3207", "rfc1870", "rfc2920", "rfc6152", "rfc2034", "rfc3463", "rfc6531", "rfc4954", "rfc3030", "rfc3461"},
	Examples: []string{
		"smtp",
		"smtp --label-filter 'rfc5321 && must'",
		"smtp --focus 'smtp/rfc3207/.*'",
		"smtp --target mutant:open-relay",
	},
})

// service is the mail transfer port.
const service = contract.ServiceTCP

// The fixture's addresses and mailboxes (internal/smtp, internal/mailstore).
const (
	sender        = "sender@protospec.test"
	rcptBob       = contract.AddressBob
	rcptAlice     = contract.AddressAlice
	postmasterBob = contract.PostmasterBob
	unknownUser   = contract.UnknownUserBob
	foreignRcpt   = "victim@" + contract.ForeignDomain
	boxBob        = "bob"
	boxAlice      = "alice"
	boxPostmaster = "postmaster"
	dirMaildir    = contract.DirMaildir
	clientName    = "client.protospec.test"
)

// Features of the contract a target may lack.
const (
	featureSTARTTLS   = contract.FeatureSTARTTLS
	featurePipelining = contract.FeaturePipelining
	featureSize       = contract.FeatureSize
	feature8BitMIME   = contract.Feature8BitMIME
	featureEnhanced   = contract.FeatureEnhancedCodes
	featureSMTPUTF8   = contract.FeatureSMTPUTF8
	featureVRFY       = contract.FeatureVRFY
	featureAuth       = contract.FeatureAuth
	featureChunking   = contract.FeatureChunking
	featureDSN        = contract.FeatureDSN
)

// The fixture's accounts (internal/mailstore) for AUTH.
const (
	authUser     = "bob"
	authPassword = "bob"
	badPassword  = "not-bob"
)

const (
	// quietTime is how long a spec listens to conclude that nothing
	// more is coming, at the default step timeout (scaled by t.Scaled).
	quietTime = 400 * time.Millisecond
	// deliveryWait is how long a spec looks for a message in the Maildir
	// after the 250 to the end of data.
	deliveryWait = 3 * time.Second
	// refusalWait is how long a spec looks for a message that must not
	// be delivered.
	refusalWait = time.Second
)
