package dns

import "errors"

// Zone loading errors.
var (
	// ErrBadOrigin is returned when a zone origin is not a valid domain name.
	ErrBadOrigin = errors.New("dns: bad zone origin")
	// ErrZoneSyntax wraps a master-file syntax error from the zone parser.
	ErrZoneSyntax = errors.New("dns: zone file syntax error")
	// ErrZoneTooLarge is returned when a zone holds more than MaxZoneRecords.
	ErrZoneTooLarge = errors.New("dns: zone too large")
	// ErrOutOfZone is returned for a record whose owner is not in the zone.
	ErrOutOfZone = errors.New("dns: record out of zone")
	// ErrNoSOA is returned for a zone without an SOA record at its apex.
	ErrNoSOA = errors.New("dns: zone has no SOA at its apex")
	// ErrNotIN is returned for a record of a class other than IN.
	ErrNotIN = errors.New("dns: record class is not IN")
	// ErrCNAMEConflict is returned for a CNAME that shares its owner with
	// other data (RFC 2181 section 10.1).
	ErrCNAMEConflict = errors.New("dns: CNAME and other data at one name")
)

// Message and transport errors.
var (
	// ErrShortMessage is returned for a message shorter than a DNS header.
	ErrShortMessage = errors.New("dns: message shorter than a header")
	// ErrMessageTooLarge is returned for a TCP length prefix beyond the limit.
	ErrMessageTooLarge = errors.New("dns: message too large")
	// ErrZeroLength is returned for a TCP message with a zero length prefix.
	ErrZeroLength = errors.New("dns: zero-length TCP message")
	// ErrServerClosed is returned by Serve methods called after Close.
	ErrServerClosed = errors.New("dns: server closed")
)

// Resolver errors.
var (
	// ErrNoRootHints is returned when a Resolver has no root hints.
	ErrNoRootHints = errors.New("dns: resolver has no root hints")
	// ErrUpstreamNotLoopback is returned when an upstream server is not on
	// a loopback address: the reference resolver never leaves the machine.
	ErrUpstreamNotLoopback = errors.New("dns: upstream server is not on loopback")
	// ErrNoAnswer is returned when a server sent no acceptable answer
	// before the timeout (silence, or only answers that failed the checks).
	ErrNoAnswer = errors.New("dns: no acceptable answer from server")
	// ErrAllServersFailed is returned when every server of a zone failed.
	ErrAllServersFailed = errors.New("dns: all servers failed")
	// ErrTooManyQueries is returned when one resolution exceeds its budget
	// of upstream queries.
	ErrTooManyQueries = errors.New("dns: too many upstream queries")
	// ErrTooDeep is returned when CNAME chains or glueless delegations nest
	// deeper than the limit.
	ErrTooDeep = errors.New("dns: resolution nested too deep")
	// ErrLame is returned when a server answered neither with data, a
	// negative answer nor a usable referral.
	ErrLame = errors.New("dns: lame or unusable server answer")
	// ErrBadName is returned by Resolve for a name that is not a domain name.
	ErrBadName = errors.New("dns: bad domain name")
)

// Hierarchy errors.
var (
	// ErrNoFreePort is returned when StartHierarchy finds no port free on
	// all of its loopback addresses.
	ErrNoFreePort = errors.New("dns: no common free port on the hierarchy's addresses")
)
