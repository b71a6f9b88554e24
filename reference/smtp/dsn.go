package smtp

import "strings"

// The DSN parameters (RFC 3461) and AUTH= (RFC 4954 5) of MAIL and RCPT.
// They are checked and not kept: the server delivers locally and sends
// no delivery status notification, and it relays nothing, so there is no
// next hop to pass them to.

// Limits of the decoded values, the room RFC 3461 4 gives them on the
// command line: MAIL grows by 100 characters for RET and ENVID, RCPT by
// 500 for NOTIFY and ORCPT.
const (
	maxEnvID = 100
	maxOrcpt = 500
)

// mailExtParam checks one MAIL parameter that is not SIZE, BODY or
// SMTPUTF8, replying to a refusal itself; it reports whether the
// parameter is acceptable.
func (c *session) mailExtParam(p param) bool {
	switch p.key {
	case "RET":
		// RFC 3461 4.3: ret-value = "FULL" / "HDRS".
		if v := strings.ToUpper(p.value); v != "FULL" && v != "HDRS" {
			c.fail(501, "5.5.4 Syntax: RET=FULL or RET=HDRS (RFC 3461 4.3)")
			return false
		}
	case "ENVID":
		// RFC 3461 4.4: envid-parameter = "ENVID=" xtext, of printable
		// US-ASCII once decoded.
		v, err := decodeXtext(p.value)
		if !p.hasValue || err != nil || !isPrintableASCII(v) || len(v) > maxEnvID {
			c.fail(501, "5.5.4 Syntax: ENVID=xtext of printable US-ASCII (RFC 3461 4.4)")
			return false
		}
	case "AUTH":
		if !c.authOffered() {
			c.fail(555, "5.5.4 MAIL parameter AUTH not recognized: AUTH is not offered here")
			return false
		}
		// RFC 4954 5: "The decoded form of the xtext MUST be either a
		// <mailbox> or the two characters "<>"". The server trusts no
		// client's claim, so it behaves "as if the AUTH=<> parameter was
		// supplied" (a valid value is accepted and forgotten).
		v, err := decodeXtext(p.value)
		if err == nil && v != "<>" {
			_, err = parseMailbox(v)
		}
		if !p.hasValue || err != nil {
			c.fail(501, "5.5.4 Syntax: AUTH=<> or AUTH=xtext of a mailbox (RFC 4954 5)")
			return false
		}
	default:
		// RFC 5321 4.1.1.11: "If the server SMTP does not recognize or
		// cannot implement one or more of the parameters associated with
		// a particular MAIL FROM or RCPT TO command, it will return code
		// 555."
		c.fail(555, "5.5.4 MAIL parameter "+p.key+" not recognized")
		return false
	}
	return true
}

// rcptParams checks the parameters of RCPT, replying to a refusal
// itself; it reports whether they are acceptable.
func (c *session) rcptParams(params []param) bool {
	if len(params) > 0 && !c.esmtp {
		c.fail(555, "5.5.4 RCPT parameters need EHLO")
		return false
	}
	for _, p := range params {
		switch p.key {
		case "NOTIFY":
			if !validNotify(p.value) {
				// RFC 3461 4.1: notify-esmtp-value = "NEVER" /
				// 1#notify-list-element, and "the NEVER keyword MUST
				// appear by itself".
				c.fail(501, "5.5.4 Syntax: NOTIFY=NEVER or NOTIFY= a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1)")
				return false
			}
		case "ORCPT":
			// RFC 3461 4.2: orcpt-parameter = "ORCPT="
			// original-recipient-address, which is addr-type ";" xtext.
			typ, addr, ok := strings.Cut(p.value, ";")
			v, err := decodeXtext(addr)
			if !ok || !validAtom(typ) || addr == "" || err != nil || !isPrintableASCII(v) || len(v) > maxOrcpt {
				c.fail(501, "5.5.4 Syntax: ORCPT=addr-type;xtext (RFC 3461 4.2)")
				return false
			}
		default:
			c.fail(555, "5.5.4 RCPT parameter "+p.key+" not recognized")
			return false
		}
	}
	return true
}

func validNotify(v string) bool {
	if strings.EqualFold(v, "NEVER") {
		return true
	}
	seen := map[string]bool{}
	for _, e := range strings.Split(strings.ToUpper(v), ",") {
		if (e != "SUCCESS" && e != "FAILURE" && e != "DELAY") || seen[e] {
			return false
		}
		seen[e] = true
	}
	return true
}

// validAtom: 1*atext (RFC 5322 3.2.3), ASCII only.
func validAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || !isAtext(s[i]) {
			return false
		}
	}
	return true
}
