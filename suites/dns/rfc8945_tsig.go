package dns

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

// TSIG (RFC 8945): the specs sign queries with the key a target offering
// dns/tsig shares with the suite (the contract's fixture key, or a user's
// own from $PROTOSPEC_DNS_TSIG_KEY as NAME:SECRET) and judge what comes
// back. The sentences of RFC 8945 could not be retrieved word for word
// here, so each spec says in the suite's words what the section requires
// (spec.Inferred), not a quotation.
var (
	rfc8945_5_2_1 = spec.Section("dns", "rfc8945", "5.2.1", "Key Check and Error Handling")
	rfc8945_5_2_2 = spec.Section("dns", "rfc8945", "5.2.2", "MAC Check and Error Handling")
	rfc8945_5_2_3 = spec.Section("dns", "rfc8945", "5.2.3", "Time Check and Error Handling")
	rfc8945_5_3   = spec.Section("dns", "rfc8945", "5.3", "Generation of TSIG on Answers")
	rfc8945_5_3_1 = spec.Section("dns", "rfc8945", "5.3.1", "TSIG on TCP Connections")
	rfc8945_5_3_2 = spec.Section("dns", "rfc8945", "5.3.2", "Generation of TSIG on Error Returns")
)

// FeatureTSIG is a target that verifies queries signed with the shared
// key and signs its answers.
const FeatureTSIG = fixture.FeatureTSIG

// tsigKey is the key the specs sign with: $PROTOSPEC_DNS_TSIG_KEY
// (NAME:BASE64SECRET) or the contract's.
func tsigKey() (name, secret string) {
	if v := os.Getenv("PROTOSPEC_DNS_TSIG_KEY"); v != "" {
		if n, s, ok := strings.Cut(v, ":"); ok {
			return strings.ToLower(mdns.Fqdn(n)), s
		}
	}
	return fixture.TSIGKeyName, fixture.TSIGKeySecret
}

// otherSecret is a well-formed secret no target shares.
var otherSecret = base64.StdEncoding.EncodeToString([]byte("protospec: a secret nobody shares"))

// signedQuery packs www.test. A signed with key name and secret at
// signedAt, and returns the bytes and the request MAC.
func signedQuery(t *spec.T, name, secret string, signedAt time.Time) (*mdns.Msg, []byte, string) {
	q := authQuery(fixture.NameWWW, mdns.TypeA)
	q.SetTsig(name, mdns.HmacSHA256, 300, signedAt.Unix())
	b, mac, err := mdns.TsigGenerate(q, secret, "", false)
	t.Check(err)
	return q, b, mac
}

// tsigExchange sends a signed query over UDP and returns the response and
// its TSIG record (nil when it has none).
func tsigExchange(t *spec.T, name, secret string, signedAt time.Time) (raw []byte, m *mdns.Msg, ts *mdns.TSIG, reqMAC string) {
	t.Require(FeatureTSIG)
	q, b, mac := signedQuery(t, name, secret, signedAt)
	p := t.DialPacket(ServiceAuthUDP)
	raw, err := p.Exchange(b, 65535)
	t.Check(err)
	m = unpack(t, raw)
	if m.Id != q.Id {
		t.Mismatch("a response with the query's ID", "ID %d: %s", m.Id, summary(m))
	}
	return raw, m, m.IsTsig(), mac
}

// checkTSIGError checks an error response: NOTAUTH, a TSIG record with
// the error, and no answer data.
func checkTSIGError(t *spec.T, m *mdns.Msg, ts *mdns.TSIG, want uint16) {
	if ts == nil {
		t.Mismatch("NOTAUTH with a TSIG record whose error is "+mdns.RcodeToString[int(want)], "no TSIG record in %s", summary(m))
	}
	if m.Rcode != mdns.RcodeNotAuth || ts.Error != want {
		t.Mismatch("NOTAUTH with TSIG error "+mdns.RcodeToString[int(want)], "rcode %s, TSIG error %s", mdns.RcodeToString[m.Rcode], mdns.RcodeToString[int(ts.Error)])
	}
	if len(m.Answer) > 0 {
		t.Mismatch("no answer data for a query that failed its TSIG check", "%s", summary(m))
	}
}

// macMatches recomputes the MAC of an error response (miekg/dns's
// TsigVerify refuses any NOTAUTH message) from its parsed fields and
// compares it with the one it carries. The response is packed again, which
// gives its own bytes for a message that holds only its question.
func macMatches(m *mdns.Msg, ts *mdns.TSIG, secret, requestMAC string) bool {
	c := m.Copy()
	stub := *ts
	stub.MAC, stub.MACSize = "", 0
	c.Extra = append(c.Extra[:len(c.Extra)-1:len(c.Extra)-1], &stub)
	c.Id = ts.OrigId
	_, mac, err := mdns.TsigGenerate(c, secret, requestMAC, false)
	return err == nil && strings.EqualFold(mac, ts.MAC)
}

var _ = Describe("RFC 8945 TSIG", func() {
	rfc8945_5_3.It("signed-answer-verifies", spec.MUST, "answers a query signed with the shared key, signed with the same key and a MAC that verifies", spec.Inferred(`RFC 8945 5.3: a server that has generated a response to a signed request signs the response with the same key and algorithm, its MAC covering the request's MAC.`, "RFC 8945 5.3 requires it of a server that verified the request; the sentence is not quoted here"), func(t *spec.T) {
		name, secret := tsigKey()
		raw, m, ts, mac := tsigExchange(t, name, secret, time.Now())
		if m.Rcode != mdns.RcodeSuccess || len(m.Answer) == 0 {
			t.Mismatch("the answer to www.test. A", "%s", summary(m))
		}
		if ts == nil {
			t.Mismatch("a TSIG record on the answer", "none: %s", summary(m))
		}
		if !strings.EqualFold(ts.Hdr.Name, name) || ts.Algorithm != mdns.HmacSHA256 || ts.Error != 0 {
			t.Mismatch("TSIG key "+name+", hmac-sha256, no error", "key %s, algorithm %s, error %s", ts.Hdr.Name, ts.Algorithm, mdns.RcodeToString[int(ts.Error)])
		}
		if err := mdns.TsigVerify(raw, secret, mac, false); err != nil {
			t.Mismatch("a MAC that verifies with the shared key over the request's MAC", "%v", err)
		}
	})

	rfc8945_5_2_1.It("unknown-key-badkey", spec.MUST, "answers a query signed with a key it does not know with NOTAUTH and TSIG error BADKEY", spec.Inferred(`RFC 8945 5.2.1: a server that does not recognise the key (or the algorithm) generates an error response with RCODE 9 (NOTAUTH) and the TSIG ERROR field set to BADKEY.`, "RFC 8945 5.2.1 requires it; the sentence is not quoted here"), func(t *spec.T) {
		_, m, ts, _ := tsigExchange(t, "protospec-unknown-key.", otherSecret, time.Now())
		checkTSIGError(t, m, ts, mdns.RcodeBadKey)
	})

	rfc8945_5_3_2.It("badkey-unsigned", spec.MUST, "sends its BADKEY response with an empty MAC", spec.Inferred(`RFC 8945 5.3.2: a response to a request that failed the key or MAC check is not signed: its TSIG carries a MAC of length 0.`, "RFC 8945 5.3.2 requires it; the sentence is not quoted here"), func(t *spec.T) {
		_, m, ts, _ := tsigExchange(t, "protospec-unknown-key.", otherSecret, time.Now())
		checkTSIGError(t, m, ts, mdns.RcodeBadKey)
		if ts.MACSize != 0 {
			t.Mismatch("a MAC size of 0", "%d", ts.MACSize)
		}
	})

	rfc8945_5_2_2.It("bad-mac-badsig", spec.MUST, "answers a query whose MAC does not verify with NOTAUTH and TSIG error BADSIG", spec.Inferred(`RFC 8945 5.2.2: a MAC that does not match the one the server computes with the key gets an error response with RCODE 9 (NOTAUTH) and the TSIG ERROR field set to BADSIG.`, "RFC 8945 5.2.2 requires it; the sentence is not quoted here"), func(t *spec.T) {
		name, _ := tsigKey()
		_, m, ts, _ := tsigExchange(t, name, otherSecret, time.Now())
		checkTSIGError(t, m, ts, mdns.RcodeBadSig)
	})

	rfc8945_5_2_3.It("time-skew-badtime", spec.MUST, "answers a query signed an hour ago (fudge 300 s) with NOTAUTH and TSIG error BADTIME", spec.Inferred(`RFC 8945 5.2.3: a request whose Time Signed is outside the Fudge of the server's clock gets an error response with RCODE 9 (NOTAUTH) and the TSIG ERROR field set to BADTIME.`, "RFC 8945 5.2.3 requires it; the sentence is not quoted here"), func(t *spec.T) {
		name, secret := tsigKey()
		_, m, ts, _ := tsigExchange(t, name, secret, time.Now().Add(-time.Hour))
		checkTSIGError(t, m, ts, mdns.RcodeBadTime)
	})

	rfc8945_5_3_2.It("badtime-signed-with-time", spec.MUST, "signs its BADTIME response and gives its own time in Other Data", spec.Inferred(`RFC 8945 5.2.3 and 5.3.2: the BADTIME response is signed with the key (the request's MAC verified), and its Other Data holds the server's current time (6 octets), so the client can see the skew.`, "RFC 8945 requires it; the sentence is not quoted here"), func(t *spec.T) {
		name, secret := tsigKey()
		_, m, ts, mac := tsigExchange(t, name, secret, time.Now().Add(-time.Hour))
		checkTSIGError(t, m, ts, mdns.RcodeBadTime)
		if ts.OtherLen != 6 {
			t.Mismatch("6 octets of Other Data (the server's time)", "%d", ts.OtherLen)
		}
		if !macMatches(m, ts, secret, mac) {
			t.Mismatch("a BADTIME response signed with the shared key over the request's MAC", "the MAC %s does not match", ts.MAC)
		}
	})

	rfc8945_5_3_1.It("axfr-every-message-verifies", spec.MUST, "signs every message of a signed AXFR, each MAC chained to the one before", spec.Inferred(`RFC 8945 5.3.1: on a TCP connection a server signs every message of a multi-message answer (it may sign only every 100th, but the first and last are always signed), each MAC covering the previous one.`, "RFC 8945 5.3.1; the sentence is not quoted here"), func(t *spec.T) {
		t.Require(FeatureTSIG)
		t.Require(FeatureAXFR)
		name, secret := tsigKey()
		q := authQuery("test.", mdns.TypeAXFR)
		q.SetTsig(name, mdns.HmacSHA256, 300, time.Now().Unix())
		b, mac, err := mdns.TsigGenerate(q, secret, "", false)
		t.Check(err)
		c := t.Dial(ServiceAuthTCP)
		c.Send(tcpFrame(b))
		soas, n := 0, 0
		prev := mac
		for soas < 2 && n < 1000 {
			raw, err := readTCPMsg(c)
			t.Check(err)
			m := unpack(t, raw)
			n++
			ts := m.IsTsig()
			if m.Rcode != mdns.RcodeSuccess {
				t.Mismatch("the transfer", "message %d: %s", n, summary(m))
			}
			if ts == nil {
				// Only the first and the last must be signed (100 between
				// signatures at the most); the fixture's zone fits in one.
				if n == 1 {
					t.Mismatch("a TSIG record on the first message", "none: %s", summary(m))
				}
			} else {
				if err := mdns.TsigVerify(raw, secret, prev, n > 1); err != nil {
					t.Mismatch(fmt.Sprintf("message %d signed over the previous MAC", n), "%v", err)
				}
				prev = ts.MAC
			}
			for _, rr := range m.Answer {
				if rr.Header().Rrtype == mdns.TypeSOA {
					soas++
				}
			}
		}
		t.Note("%d messages, every signed one verified", n)
	})
})
