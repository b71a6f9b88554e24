package http1

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_7_8 = spec.Section("http1", "rfc9110", "7.8", "Upgrade")

// upgradeSwitch is RFC 9110 7.8's limit on switching protocols.
const upgradeSwitch = "A server MUST NOT switch to a protocol that was not indicated by the client in the corresponding request's Upgrade header field."

// trailerMerge is RFC 9110 6.5.1's rule on trailer fields.
const trailerMerge = `RFC 9110 6.5.1: "A recipient MUST NOT merge a trailer field into a header section unless the recipient understands the corresponding header field definition and that definition explicitly permits and defines how trailer field values can be safely merged."`

// expectNotSwitched sends raw followed by a GET for /hello.txt and
// accepts a server that ignores the Upgrade (RFC 9110 7.8: "A server MAY
// ignore a received Upgrade header field if it wishes to continue using
// the current protocol on that connection"), or rejects the request; it
// fails a 101 when switching is not allowed, or one that names a
// protocol the client did not offer.
func expectNotSwitched(t *spec.T, raw string, offered ...string) {
	c := t.Dial(service)
	c.Send(raw + get(t, hello.Path))
	first, err := ReadResponse(c, methodOf(raw))
	if err != nil {
		if noResponse(err) {
			return
		}
		t.Failf("%v", spec.Errorf("a response to the request with Upgrade", "%v", err))
	}
	if first.Code == 101 {
		got := first.Header.Get("Upgrade")
		for _, p := range offered {
			if strings.EqualFold(strings.TrimSpace(got), p) {
				return
			}
		}
		t.Failf("%v", spec.Errorf("no 101 (Switching Protocols) for this request (offered: "+strings.Join(offered, ", ")+")", "%s with Upgrade: %q", first, got))
	}
	if first.Closes() {
		return
	}
	second, err := ReadResponse(c, "GET")
	if err != nil {
		if noResponse(err) {
			return
		}
		t.Failf("%v", spec.Errorf("the answer to GET /hello.txt after the request with Upgrade (the connection stays HTTP/1.1)", "after %s: %v", first, err))
	}
	t.Check(expectFile(second, hello))
}

// silent reports whether err is the target sending nothing within the
// step's deadline: a reaction the RFC allows to an incomplete request
// (the spine records it as a refusal, so a dead target is caught).
func silent(err error) bool {
	var re *spec.ReadError
	return errors.As(err, &re) && re.Timeout > 0 && len(re.Got) == 0
}

// The HTTP/1.1 parsing and semantics cases around framing that the peers
// test: trailer fields a server must not merge, Upgrade requests a
// server must not take for a switch, malformed versions, TRACE with
// content, control characters in field values, incomplete requests,
// many overlapping ranges, and conditional fields a server must ignore.
var _ = Describe("RFC 9110 and RFC 9112 parsing edges", func() {
	// RFC 9110 6.5.1: "Many fields cannot be processed outside the header
	// section because their evaluation is necessary prior to receiving
	// the content, such as those that describe message framing, routing,
	// authentication, request modifiers, response controls, or content
	// format." None of these trailers may change what /echo received.
	for _, tr := range []struct{ slug, line string }{
		{"transfer-encoding", "Transfer-Encoding: chunked"},
		{"content-length-zero", "Content-Length: 0"},
		{"host", "Host: trailer.invalid"},
		{"authorization", "Authorization: Basic YWRtaW46YWRtaW4="},
		{"content-type", "Content-Type: application/x-www-form-urlencoded"},
		{"content-encoding", "Content-Encoding: gzip"},
		{"content-range", "Content-Range: bytes 0-1/5"},
		{"connection", "Connection: close"},
		{"expect", "Expect: 100-continue"},
		{"cookie", "Cookie: session=trailer"},
	} {
		rfc9110_6_5_1.It("prohibited-trailer-"+tr.slug, spec.MUST, "decodes chunked content unchanged with a "+tr.line+" trailer field", spec.Quote(trailerMerge).SharedBecause("one spec per field a trailer must not change"), func(t *spec.T) {
			t.Require(featEcho)
			c := t.Dial(service)
			c.Send(chunkedPost(t, fixture.EchoPath, "5\r\nhello\r\n0\r\n"+tr.line+"\r\n\r\n") + get(t, hello.Path))
			resp, err := ReadResponse(c, "POST")
			if err == nil && resp.Code == 400 || noResponse(err) {
				// Rejecting a request that carries a prohibited trailer
				// is allowed; it then closes or reads on.
				return
			}
			t.Check(err)
			t.Check(expectStatus(resp, 200))
			t.Check(expectBody(resp, []byte("hello")))
			if !resp.Closes() {
				second, err := ReadResponse(c, "GET")
				if err != nil && noResponse(err) {
					return
				}
				t.Check(err)
				t.Check(expectFile(second, hello))
			}
		})
	}

	rfc9110_7_8.It("upgrade-http10-ignored", spec.MUST, "ignores Upgrade in an HTTP/1.0 request", spec.Quote("A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field."), func(t *spec.T) {
		resp := fetch(t, request10("GET", hello.Path, "Host: "+host(t), "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"))
		t.Check(expectFile(resp, hello))
	})

	upgrades := []struct {
		slug, title, method, body string
		fields                    []string
		// offered is the protocol a 101 may name; none where no switch
		// is allowed at all.
		offered string
		// why, when set, is the rule that forbids any switch.
		why string
	}{
		{slug: "unknown-protocol", title: "an unknown protocol", method: "GET", fields: []string{"Connection: Upgrade", "Upgrade: x-unknown-protocol/1"}, offered: "x-unknown-protocol/1"},
		{slug: "post-with-content", title: "a POST with content", method: "POST", body: "hello", fields: []string{"Connection: Upgrade", "Upgrade: x-unknown-protocol/1"}, offered: "x-unknown-protocol/1"},
		{slug: "without-connection-option", title: "no Upgrade connection option", method: "GET", fields: []string{"Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"},
			why: `RFC 9110 7.8: "A sender of Upgrade MUST also send an "Upgrade" connection option in the Connection header field (Section 7.6.1) to inform intermediaries not to forward this field"; without it the field may have crossed an intermediary, and no switch is asked of this hop`},
		{slug: "websocket-bad-version", title: "a WebSocket version no server implements", method: "GET", fields: []string{"Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 99"},
			why: "RFC 6455 4.2.2 lets a server switch to WebSocket only for a version it implements (13); 99 is none"},
		{slug: "h2c-without-settings", title: "h2c without HTTP2-Settings", method: "GET", fields: []string{"Connection: Upgrade", "Upgrade: h2c"},
			why: `RFC 7540 3.2.1: "A server MUST NOT upgrade the connection to HTTP/2 if this header field is not present"`},
	}
	for _, u := range upgrades {
		sentence := spec.Quote(upgradeSwitch)
		if u.why != "" {
			sentence = spec.Inferred(upgradeSwitch, u.why)
		}
		rfc9110_7_8.It("upgrade-"+u.slug, spec.MUST, "does not switch protocols for an Upgrade with "+u.title+" and keeps the connection HTTP/1.1", sentence.SharedBecause("one spec per Upgrade a server must not act on"), func(t *spec.T) {
			raw := request(t, u.method, hello.Path, u.fields...)
			if u.body != "" {
				raw = withBody(t, u.method, hello.Path, u.body, u.fields...)
			}
			if u.offered == "" {
				expectNotSwitched(t, raw)
				return
			}
			expectNotSwitched(t, raw, u.offered)
		})
	}

	for _, v := range []struct{ slug, version string }{
		{"space-after-slash", "HTTP/ 1.1"},
		{"space-before-slash", "HTTP /1.1"},
		{"no-dot", "HTTP/11"},
		{"three-parts", "HTTP/1.1.1"},
	} {
		rfc9112_2_3.It("malformed-version-"+v.slug, spec.SHOULD, "rejects the malformed HTTP-version "+strconv.Quote(v.version), spec.Quote("Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.").In("3.2").SharedBecause("one spec per malformed HTTP-version"), func(t *spec.T) {
			_, resp, err := exchange(t, "GET "+hello.Path+" "+v.version+"\r\nHost: "+host(t)+"\r\n\r\n")
			t.Check(expectRejected(resp, err, 400, 505))
		})
	}

	rfc9112_3.It("invalid-target-backslash", spec.SHOULD, "answers a backslash in the request-target with 400 or a 301 to the encoded target", spec.Quote(`Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.`).In("3.2").SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
		_, resp, err := exchange(t, "GET /dir\\index.html HTTP/1.1\r\nHost: "+host(t)+"\r\n\r\n")
		t.Check(expectRejected(resp, err, 400, 301))
	})

	rfc9112_6_3.It("trace-with-content", spec.MUST, "reads or closes past the content of a TRACE", spec.Quote(readOrClose).In("9.3").SharedBecause("one case per method: TRACE, whose content RFC 9110 9.3.8 forbids the client to send"), func(t *spec.T) {
		expectFramedOrRejected(t, withBody(t, "TRACE", hello.Path, "ignored content"))
	})

	rfc9110_9_3_8.It("trace-with-content-desync", spec.MUST, "does not answer a request hidden in the content of a TRACE", spec.Quote("A client MUST NOT send content in a TRACE request."), func(t *spec.T) {
		// The client broke the rule; the server still frames by
		// Content-Length (RFC 9112 6.3) or rejects and closes.
		s := smuggled(t)
		expectNotSmuggled(t, request(t, "TRACE", hello.Path, "Content-Length: "+strconv.Itoa(len(s)))+s)
	})

	for _, ctl := range []struct{ slug, title, b string }{
		{"soh", "SOH (0x01)", "\x01"},
		{"esc", "ESC (0x1b)", "\x1b"},
		{"us", "US (0x1f)", "\x1f"},
		{"del", "DEL (0x7f)", "\x7f"},
		{"vt", "VT (0x0b)", "\x0b"},
	} {
		rfc9110_5_5.It("ctl-in-field-value-"+ctl.slug, spec.MUST, "rejects or retains a "+ctl.title+" in a field value, and never misframes", spec.Inferred("Field values containing other CTL characters are also invalid; however, recipients MAY retain such characters for the sake of robustness", "RFC 9110 5.5 lets the recipient reject or retain the octet; either way the content that follows is framed by its Content-Length").SharedBecause("one spec per control character"), func(t *spec.T) {
			expectFramedOrRejected(t, withBody(t, "POST", bodyTarget(t), "hello", "X-Ctl: a"+ctl.b+"b"))
		})
	}

	// RFC 9112 8: "A server that receives an incomplete request message,
	// usually due to a canceled request or a triggered timeout exception,
	// MAY send an error response prior to closing the connection." It
	// never processes the fragment as a request.
	for _, inc := range []struct{ slug, title, raw string }{
		{"head-without-end", "a head without its empty line", "GET /hello.txt HTTP/1.1\r\nHost: x\r\n"},
		{"request-line-only", "a request-line without its CRLF", "GET /hello.txt HTTP/1.1"},
		{"field-line-cut", "a head cut inside a field line", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nAcce"},
		{"method-only", "a method alone", "GET"},
	} {
		rfc9112_8.It("incomplete-"+inc.slug, spec.SHOULD, "does not serve "+inc.title+" followed by a close", spec.Inferred(`RFC 9112 8: "A message body that uses the chunked transfer coding is incomplete if the zero-sized chunk that terminates the encoding has not been received."`, "RFC 9112 8 lets a server answer an incomplete request with an error before closing; serving it acts on a request that never came").SharedBecause("one spec per way of cutting a request head"), func(t *spec.T) {
			c := t.Dial(service)
			c.Send(strings.Replace(inc.raw, "Host: x", "Host: "+host(t), 1))
			t.Check(c.CloseWrite())
			// ReadOne keeps the head of a response whose content then
			// fails: a 200 head is a served request however it ends.
			resp, err := ReadOne(c, "GET")
			switch {
			case resp != nil && resp.Code >= 400:
			case resp != nil:
				t.Mismatch("an error response (400, 408) or the connection closed", "%s: the incomplete request was served", resp)
			case err != nil && !noResponse(err) && !silent(err):
				t.Failf("%v", spec.Errorf("an error response (400, 408), the connection closed, or nothing", "%v", err))
			}
		})
	}

	rfc9112_2_2.It("empty-request-then-close", spec.SHOULD, "sends no response or a 400 to a connection that sends only CRLF and closes", spec.Quote("In the interest of robustness, a server that is expecting to receive and parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the request-line."), func(t *spec.T) {
		c := t.Dial(service)
		c.Send("\r\n")
		t.Check(c.CloseWrite())
		resp, err := ReadResponse(c, "GET")
		if silent(err) {
			return // still waiting for a request-line: nothing to answer
		}
		t.Check(expectRejected(resp, err, 400, 408))
	})

	rfc9110_14_2.It("many-overlapping-ranges", spec.MAY, "ignores or rejects 200 overlapping ranges (the CVE-2011-3192 class)", spec.Quote("A server that supports range requests MAY ignore or reject a Range header field that contains an invalid ranges-specifier (Section 14.1.1), a ranges-specifier with more than two overlapping ranges, or a set of many small ranges that are not listed in ascending order, since these are indications of either a broken client or a deliberate denial-of-service attack (Section 17.15)."), func(t *spec.T) {
		rs := make([]string, 200)
		for i := range rs {
			rs[i] = "0-" + strconv.Itoa(500+i)
		}
		resp := fetch(t, get(t, oneK.Path, "Range: bytes="+strings.Join(rs, ",")))
		switch {
		case resp.Code == 200:
			t.Check(expectFile(resp, oneK))
		case resp.Code == 416 || resp.Code == 400:
		case resp.Code == 206 && len(resp.Body) <= 2*len(oneK.Content):
			t.Note("206 of %d bytes: the ranges were coalesced", len(resp.Body))
		default:
			t.Mismatch("a 200 (ranges ignored), a 416 or 400 (rejected), or a coalesced 206", "status %d with %d bytes of content for a 1024-byte file", resp.Code, len(resp.Body))
		}
	})

	rfc9110_14_2.It("many-small-ranges-descending", spec.MAY, "ignores or rejects 100 small ranges in descending order", spec.Quote("A server that supports range requests MAY ignore or reject a Range header field that contains an invalid ranges-specifier (Section 14.1.1), a ranges-specifier with more than two overlapping ranges, or a set of many small ranges that are not listed in ascending order, since these are indications of either a broken client or a deliberate denial-of-service attack (Section 17.15).").SharedBecause("the many-small-ranges case of the sentence"), func(t *spec.T) {
		rs := make([]string, 100)
		for i := range rs {
			p := 1000 - 10*i
			rs[i] = strconv.Itoa(p) + "-" + strconv.Itoa(p)
		}
		resp := fetch(t, get(t, oneK.Path, "Range: bytes="+strings.Join(rs, ",")))
		switch resp.Code {
		case 200:
			t.Check(expectFile(resp, oneK))
		case 416, 400:
		default:
			t.Mismatch("a 200 (ranges ignored), or a 416 or 400 (rejected)", "status %d with %d bytes of content", resp.Code, len(resp.Body))
		}
	})

	rfc9110_13_1_3.It("ims-future-ignored", spec.MUST, "ignores an If-Modified-Since later than the server's clock", spec.Quote("A recipient MUST ignore the If-Modified-Since header field if the received field value is not a valid HTTP-date, the field value has more than one member, or if the request method is neither GET nor HEAD.").SharedBecause("RFC 9110 13.1.3 says a date later than the server's current time is invalid"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Modified-Since: "+httpDate(time.Now().Add(365*24*time.Hour)))), hello))
	})

	rfc9110_13_1_3.It("ims-ignored-on-post", spec.MUST, "ignores If-Modified-Since on a POST", spec.Quote("A recipient MUST ignore the If-Modified-Since header field if the received field value is not a valid HTTP-date, the field value has more than one member, or if the request method is neither GET nor HEAD.").SharedBecause("the method case of the sentence"), func(t *spec.T) {
		t.Require(featEcho)
		resp := fetch(t, withBody(t, "POST", fixture.EchoPath, "hello", "If-Modified-Since: "+httpDate(time.Now().Add(time.Minute))))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("hello")))
	})

	rfc9110_13_1_3.It("ims-ignored-on-options", spec.MUST, "does not answer OPTIONS with If-Modified-Since with 304", spec.Quote("A recipient MUST ignore the If-Modified-Since header field if the received field value is not a valid HTTP-date, the field value has more than one member, or if the request method is neither GET nor HEAD.").SharedBecause("the method case of the sentence, with OPTIONS"), func(t *spec.T) {
		_, tm := needLastModified(t, hello.Path)
		resp := fetch(t, request(t, "OPTIONS", hello.Path, "If-Modified-Since: "+httpDate(tm.Add(time.Hour))))
		if resp.Code == 304 || resp.Code == 412 {
			t.Mismatch("If-Modified-Since ignored on OPTIONS (no 304 or 412)", "status %d", resp.Code)
		}
	})

	rfc9110_13_1_2.It("inm-unquoted-etag", spec.MUST, "does not match an unquoted entity-tag in If-None-Match", spec.Inferred("An origin server that evaluates an If-None-Match condition MUST NOT perform the requested method if the condition evaluates to false; instead, the origin server MUST respond with either a) the 304 (Not Modified) status code if the request method is GET or HEAD or b) the 412 (Precondition Failed) status code for all other request methods.", "entity-tag = [ weak ] opaque-tag, opaque-tag = DQUOTE *etagc DQUOTE (RFC 9110 8.8.3): an unquoted value matches no entity-tag, so the condition is true and the file is served").SharedBecause("the condition with an unquoted entity-tag"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		unquoted := strings.Trim(etag, `"`)
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-None-Match: "+unquoted)), hello))
	})

	rfc9110_13_1_2.It("inm-on-post-412", spec.MUST, "answers a POST whose If-None-Match matches with 412, not 304", spec.Quote("An origin server that evaluates an If-None-Match condition MUST NOT perform the requested method if the condition evaluates to false; instead, the origin server MUST respond with either a) the 304 (Not Modified) status code if the request method is GET or HEAD or b) the 412 (Precondition Failed) status code for all other request methods.").SharedBecause("the case of a method other than GET and HEAD"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		resp := fetch(t, withBody(t, "POST", hello.Path, "x", "If-None-Match: "+etag))
		if resp.Code == 304 {
			t.Mismatch("412 (or the condition not evaluated: a 405 or other answer), never 304 for a POST", "status %d", resp.Code)
		}
	})
})

// Request Cookie header parsing on the server side (RFC 6265 4.2), the
// empty Host value and duplicate singleton fields: the forms a client
// may send that a server's parser must not trip over.
var _ = Describe("RFC 6265 4.2 and RFC 9112 3.2 request field edges", func() {
	welcome := func(n int) []byte { return []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, n)) }

	rfc6265_5_4.It("session-in-second-cookie-line", spec.FIXTURE, "finds the session cookie on a second Cookie line", spec.Fixture(`The fixture's /session finds its cookie when the cookie-pairs come on two Cookie field lines (RFC 6265 5.4 forbids a user agent to send two; a server reads what it gets).`), func(t *spec.T) {
		_, c := sessionCookie(t)
		t.Check(expectBody(fetch(t, get(t, fixture.SessionPath, "Cookie: theme=dark", "Cookie: "+c.name+"="+c.value)), welcome(2)))
	})

	rfc6265_5_4.It("session-among-empty-cookies", spec.FIXTURE, "finds the session cookie among cookie-pairs with empty values", spec.Fixture(`The fixture's /session finds its cookie among cookie-pairs whose cookie-value is empty (cookie-value = *cookie-octet, RFC 6265 4.1.1).`), func(t *spec.T) {
		_, c := sessionCookie(t)
		t.Check(expectBody(fetch(t, get(t, fixture.SessionPath, "Cookie: a=; "+c.name+"="+c.value+"; b=")), welcome(2)))
	})

	rfc6265_5_4.It("session-cookie-no-space", spec.FIXTURE, "finds the session cookie after a \";\" without SP", spec.Fixture(`The fixture's /session finds its cookie after a ";" that no SP follows (RFC 6265 4.2.1 asks the SP of senders; RFC 6265 5.2 parsing splits on ";" alone).`), func(t *spec.T) {
		_, c := sessionCookie(t)
		t.Check(expectBody(fetch(t, get(t, fixture.SessionPath, "Cookie: theme=dark;"+c.name+"="+c.value)), welcome(2)))
	})

	rfc6265_5_4.It("session-cookie-name-case", spec.FIXTURE, "does not take a cookie named in another case for the session cookie", spec.Fixture(`The fixture's /session compares cookie names case-sensitively: a cookie whose name differs from the session cookie's in case is another cookie, and the request gets a new session.`), func(t *spec.T) {
		_, c := sessionCookie(t)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+strings.ToUpper(c.name)+"="+c.value))
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
	})

	rfc9112_3_2.It("host-empty-value", spec.MUST, "serves or refuses a request with an empty Host value, never misreads it", spec.Inferred(`"A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value."`, "an empty Host is valid (uri-host may be an empty reg-name, and RFC 9112 3.2 has clients send it when the authority is missing): the server serves its default host, or refuses a name it does not serve (400, or 421 per RFC 9110 7.4)").SharedBecause("the empty-value case of the Host rule"), func(t *spec.T) {
		c := t.Dial(service)
		c.Send("GET " + hello.Path + " HTTP/1.1\r\nHost:\r\n\r\n" + get(t, hello.Path))
		resp, err := ReadResponse(c, "GET")
		if err == nil && resp.Code == 200 {
			t.Check(expectFile(resp, hello))
		} else {
			t.Check(expectRejected(resp, err, 400, 421))
		}
		if err == nil && !resp.Closes() {
			if next, err := ReadResponse(c, "GET"); err == nil || !noResponse(err) {
				t.Check(err)
				t.Check(expectFile(next, hello))
			}
		}
	})

	rfc9112_6_3.It("duplicate-content-type", spec.MUST, "reads or closes past the content of a request with two Content-Type lines", spec.Quote(readOrClose).In("9.3").SharedBecause("a request with a repeated singleton field, framed by Content-Length"), func(t *spec.T) {
		expectFramedOrRejected(t, withBody(t, "POST", bodyTarget(t), "a=1", "Content-Type: text/plain", "Content-Type: application/x-www-form-urlencoded"))
	})
})

var rfc9110_8_4 = spec.Section("http1", "rfc9110", "8.4", "Content-Encoding")
var rfc9110_15_5_16 = spec.Section("http1", "rfc9110", "15.5.16", "415 Unsupported Media Type")

// 415 where the server negotiates what it accepts: the fixture's /form
// takes two media types and no content coding.
var _ = Describe("RFC 9110 8.4 and 15.5.16 unsupported request content", func() {
	rfc9110_8_4.It("unknown-content-coding-415", spec.MAY, "answers a form with a content coding it does not decode with 415", spec.Quote("An origin server MAY respond with a status code of 415 (Unsupported Media Type) if a representation in the request message has a content coding that is not acceptable."), func(t *spec.T) {
		t.Require(featForm)
		resp := fetch(t, withBody(t, "POST", fixture.FormPath, "a=1", "Content-Type: application/x-www-form-urlencoded", "Content-Encoding: x-unknown"))
		t.Check(expectStatus(resp, 415))
	})

	rfc9110_8_4.It("unknown-content-coding-not-decoded", spec.MUST, "does not process a form whose content coding it cannot decode as if it were not encoded", spec.Inferred("If one or more encodings have been applied to a representation, the sender that applied the encodings MUST generate a Content-Encoding header field that lists the content codings in the order in which they were applied.", "RFC 9110 8.4 makes Content-Encoding part of the representation: content in a coding the server cannot decode is not the form, so reading it as one (200 with its fields) misreads the request"), func(t *spec.T) {
		t.Require(featForm)
		resp := fetch(t, withBody(t, "POST", fixture.FormPath, "a=1", "Content-Type: application/x-www-form-urlencoded", "Content-Encoding: x-unknown"))
		if resp.Code == 200 && strings.Contains(string(resp.Body), "a=1") {
			t.Mismatch("415 or another refusal: the content is in a coding the server does not know", "%s with %s", resp, spec.Excerpt(resp.Body, 80))
		}
	})

	rfc9110_15_5_16.It("form-unsupported-type-415", spec.FIXTURE, "answers a form POSTed as text/plain with 415", spec.Fixture(`The fixture's /form takes application/x-www-form-urlencoded and multipart/form-data only, and answers other media types with 415 (Unsupported Media Type).`), func(t *spec.T) {
		t.Require(featForm)
		t.Check(expectStatus(fetch(t, withBody(t, "POST", fixture.FormPath, "a=1", "Content-Type: text/plain")), 415))
	})
})
