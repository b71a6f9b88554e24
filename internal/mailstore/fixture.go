package mailstore

import "strings"

// The mail fixture the references and suites share: two domains, one user
// each, and postmaster for both (RFC 5321 4.5.1). POP3 and IMAP log the
// users in with these passwords; SMTP delivers mail for the addresses
// into the mailboxes of the same names.
var (
	// FixtureDomains are the domains whose mail is delivered locally.
	FixtureDomains = []string{"bob.test", "alice.test"}
	// FixtureUsers are the accounts.
	FixtureUsers = []User{
		{Name: "bob", Password: "bob", Address: "bob@bob.test"},
		{Name: "alice", Password: "alice", Address: "alice@alice.test"},
	}
)

// PostmasterMailbox receives the mail for postmaster of every local domain.
const PostmasterMailbox = "postmaster"

// User is one account of the fixture.
type User struct {
	// Name is the login and the mailbox name.
	Name, Password string
	// Address is the user's mail address.
	Address string
}

// FixtureMailboxes maps the fixture's addresses (lower case) to mailboxes,
// postmaster@ of each domain included.
func FixtureMailboxes() map[string]string {
	m := map[string]string{}
	for _, u := range FixtureUsers {
		m[strings.ToLower(u.Address)] = u.Name
	}
	for _, d := range FixtureDomains {
		m["postmaster@"+d] = PostmasterMailbox
	}
	return m
}
