package dns

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Server-side DNS cookies (RFC 7873, server cookie layout of RFC 9018 4):
// Version 1, three reserved bytes, a 32-bit timestamp, and an 8-byte hash
// of the client cookie, those 8 bytes and the client's address under a
// secret of this server. RFC 9018 names SipHash-2-4 for the hash so that
// the servers of one anycast address agree; a lone server may use another
// keyed hash, and this one uses HMAC-SHA-256 cut to 8 bytes.

const (
	clientCookieLen = 8
	// A server cookie is 8 to 32 bytes (RFC 7873 4).
	minServerCookieLen = 8
	maxServerCookieLen = 32
	// RFC 9018 4.3: a cookie older than an hour, or more than five
	// minutes in the future, is not accepted.
	cookieMaxAge    = time.Hour
	cookieMaxFuture = 5 * time.Minute
)

// cookieJar holds the server's secret, drawn at first use.
type cookieJar struct {
	once   sync.Once
	secret [16]byte
}

func (j *cookieJar) key() []byte {
	j.once.Do(func() { _, _ = rand.Read(j.secret[:]) })
	return j.secret[:]
}

// serverCookie is the 16-byte server cookie for client at time now.
func (j *cookieJar) serverCookie(client []byte, addr netip.Addr, now uint32) []byte {
	sc := make([]byte, 16)
	sc[0] = 1
	binary.BigEndian.PutUint32(sc[4:], now)
	mac := hmac.New(sha256.New, j.key())
	mac.Write(client)
	mac.Write(sc[:8])
	a := addr.Unmap().AsSlice()
	mac.Write(a)
	copy(sc[8:], mac.Sum(nil)[:8])
	return sc
}

// valid reports whether sc is a server cookie this server made for client
// and addr, recent enough.
func (j *cookieJar) valid(client, sc []byte, addr netip.Addr, now time.Time) bool {
	if len(sc) != 16 || sc[0] != 1 {
		return false
	}
	ts := int64(binary.BigEndian.Uint32(sc[4:]))
	age := now.Unix() - ts
	if age > int64(cookieMaxAge/time.Second) || -age > int64(cookieMaxFuture/time.Second) {
		return false
	}
	want := j.serverCookie(client, addr, uint32(ts))
	return hmac.Equal(want[8:], sc[8:])
}

// requestCookie returns the raw COOKIE option of the request, and whether
// there is one.
func requestCookie(opt *mdns.OPT) ([]byte, bool) {
	if opt == nil {
		return nil, false
	}
	for _, o := range opt.Option {
		switch c := o.(type) {
		case *mdns.EDNS0_COOKIE:
			b, err := hex.DecodeString(c.Cookie)
			if err != nil {
				return []byte{}, true
			}
			return b, true
		case *mdns.EDNS0_LOCAL:
			if c.Code == mdns.EDNS0COOKIE {
				return c.Data, true
			}
		}
	}
	return nil, false
}

// cookieReply applies RFC 7873 5.2 to a request with a COOKIE option: it
// returns the COOKIE option for the response, or malformed when the option
// cannot hold a client cookie and a well-sized server cookie (5.2.2:
// FORMERR). A missing or invalid server cookie gets a normal response with
// a fresh one (5.2.3, 5.2.4: "Process the request and provide a normal
// response"), never BADCOOKIE; a valid one is returned as it came: the reference does not rate limit by
// cookie.
func (j *cookieJar) reply(cookie []byte, addr netip.Addr, now time.Time) (opt *mdns.EDNS0_COOKIE, malformed bool) {
	n := len(cookie)
	if n != clientCookieLen && (n < clientCookieLen+minServerCookieLen || n > clientCookieLen+maxServerCookieLen) {
		return nil, true
	}
	client := cookie[:clientCookieLen]
	sc := cookie[clientCookieLen:]
	if !j.valid(client, sc, addr, now) {
		sc = j.serverCookie(client, addr, uint32(now.Unix()))
	}
	return &mdns.EDNS0_COOKIE{Code: mdns.EDNS0COOKIE, Cookie: hex.EncodeToString(append(append([]byte(nil), client...), sc...))}, false
}

// addCookie appends c to resp's OPT record (the last additional record,
// added by addOPT).
func addCookie(resp *mdns.Msg, c *mdns.EDNS0_COOKIE) {
	if len(resp.Extra) == 0 {
		return
	}
	if o, ok := resp.Extra[len(resp.Extra)-1].(*mdns.OPT); ok {
		o.Option = append(o.Option, c)
	}
}
