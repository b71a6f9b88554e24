package dns

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"sync"

	mdns "github.com/miekg/dns"
)

// DNS cookies as a client (RFC 7873 5.1, 5.3; RFC 9018): every EDNS query
// to an authority carries an 8-byte client cookie, the same for the same
// server address and secret to anyone else (an HMAC of the server's address
// under a random secret of the resolver), followed by the server cookie
// that server last returned. A response whose COOKIE option carries
// another client cookie is discarded; BADCOOKIE with a fresh server cookie
// is retried once with it.

// maxServerCookies bounds the remembered server cookies; when full, the
// table starts afresh (a forgotten cookie costs one cookie-less query).
const maxServerCookies = 4096

type clientCookies struct {
	once    sync.Once
	secret  [16]byte
	mu      sync.Mutex
	servers map[netip.Addr][]byte
}

func (c *clientCookies) init() {
	c.once.Do(func() {
		_, _ = rand.Read(c.secret[:])
		c.servers = map[netip.Addr][]byte{}
	})
}

// client returns the client cookie for server.
func (c *clientCookies) client(server netip.Addr) []byte {
	c.init()
	h := hmac.New(sha256.New, c.secret[:])
	b, _ := server.Unmap().MarshalBinary()
	h.Write(b)
	return h.Sum(nil)[:8]
}

// option returns the COOKIE option for a query to server.
func (c *clientCookies) option(server netip.Addr) *mdns.EDNS0_COOKIE {
	cc := c.client(server)
	c.mu.Lock()
	sc := c.servers[server.Unmap()]
	c.mu.Unlock()
	return &mdns.EDNS0_COOKIE{Code: mdns.EDNS0COOKIE, Cookie: hex.EncodeToString(append(append([]byte(nil), cc...), sc...))}
}

// check reads the COOKIE option of resp from server: ok is false when the
// response must be discarded (RFC 7873 5.3: a client cookie that is not
// ours); a well-formed server cookie is remembered.
func (c *clientCookies) check(server netip.Addr, resp *mdns.Msg) (ok bool) {
	opt := resp.IsEdns0()
	if opt == nil {
		return true
	}
	for _, o := range opt.Option {
		co, isCookie := o.(*mdns.EDNS0_COOKIE)
		if !isCookie {
			continue
		}
		b, err := hex.DecodeString(co.Cookie)
		if err != nil || len(b) < 8 || !hmac.Equal(b[:8], c.client(server)) {
			return false
		}
		if len(b) >= 16 && len(b) <= 40 {
			c.mu.Lock()
			if len(c.servers) >= maxServerCookies {
				c.servers = map[netip.Addr][]byte{}
			}
			c.servers[server.Unmap()] = append([]byte(nil), b[8:]...)
			c.mu.Unlock()
		}
		return true
	}
	return true
}

// withCookie sets m's COOKIE option for server, replacing any.
func (c *clientCookies) withCookie(m *mdns.Msg, server netip.Addr) {
	opt := m.IsEdns0()
	if opt == nil {
		return
	}
	kept := opt.Option[:0]
	for _, o := range opt.Option {
		if o.Option() != mdns.EDNS0COOKIE {
			kept = append(kept, o)
		}
	}
	opt.Option = append(kept, c.option(server))
}
