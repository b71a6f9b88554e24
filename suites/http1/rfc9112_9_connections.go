package http1

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_9_3 = spec.Section("http1", "rfc9112", "9.3", "Persistence")
var rfc9112_9_6 = spec.Section("http1", "rfc9112", "9.6", "Tear-down")
var rfc9112_9_3_2 = spec.Section("http1", "rfc9112", "9.3.2", "Pipelining")
var rfc9112_9_1 = spec.Section("http1", "rfc9112", "9.1", "Establishment")

// RFC 9112 section 9: connection management, persistence, pipelining and
// closing.
var _ = Describe("RFC 9112 9 Connection Management", func() {
	rfc9112_9_3.It("persistent-by-default", spec.MUST, "keeps an HTTP/1.1 connection open for a second request, or announces close", spec.Inferred("If the received protocol is HTTP/1.1 (or later), the connection will persist after the current response", "RFC 9112 9.3 states the persistence rule without a key word; a server that closes instead MUST announce it with the \"close\" option (9.3)"), func(t *spec.T) {
		c, resp := roundTrip(t, get(t, hello.Path))
		t.Check(expectFile(resp, hello))
		if resp.Closes() {
			t.Check(c.ExpectClosed(c.Scaled(closeWait)))
			return
		}
		r2, err := ReadResponseAfter(c, get(t, index.Path))
		t.Check(err)
		t.Check(expectFile(r2, index))
	})

	rfc9112_9_3.It("persistent-supported", spec.SHOULD, "supports persistent HTTP/1.1 connections (no close without a request for it)", spec.Quote("A server SHOULD sustain persistent connections, when possible, and allow the underlying transport's flow-control mechanisms to resolve temporary overloads rather than terminate connections with the expectation that clients will retry.").In("9.5"), func(t *spec.T) {
		c, resp := roundTrip(t, get(t, hello.Path))
		t.Check(expectFile(expectPersistent(t, c, resp, get(t, index.Path)), index))
	})

	rfc9112_9_3.It("ten-requests", spec.SHOULD, "answers ten sequential requests on one connection", spec.Quote("A server SHOULD sustain persistent connections, when possible, and allow the underlying transport's flow-control mechanisms to resolve temporary overloads rather than terminate connections with the expectation that clients will retry.").In("9.5").SharedBecause("several cases of sustaining a persistent connection"), func(t *spec.T) {
		c := t.Dial(service)
		for i := 0; i < 10; i++ {
			c.Send(get(t, hello.Path))
			resp := read(t, c, "GET")
			t.Check(expectFile(resp, hello))
			if resp.Closes() {
				t.Mismatch("a persistent connection", "request %d was answered with close", i+1)
			}
		}
	})

	rfc9112_9_3.It("persistent-after-404", spec.SHOULD, "keeps the connection open after a 404", spec.Quote("A server SHOULD sustain persistent connections, when possible, and allow the underlying transport's flow-control mechanisms to resolve temporary overloads rather than terminate connections with the expectation that clients will retry.").In("9.5").SharedBecause("several cases of sustaining a persistent connection"), func(t *spec.T) {
		c, resp := roundTrip(t, get(t, "/no-such-file"))
		t.Check(expectStatus(resp, 404, 410))
		t.Check(expectFile(expectPersistent(t, c, resp, get(t, hello.Path)), hello))
	})

	rfc9112_9_3.It("persistent-after-head", spec.SHOULD, "keeps the connection open after a HEAD", spec.Quote("A server SHOULD sustain persistent connections, when possible, and allow the underlying transport's flow-control mechanisms to resolve temporary overloads rather than terminate connections with the expectation that clients will retry.").In("9.5").SharedBecause("several cases of sustaining a persistent connection"), func(t *spec.T) {
		c, resp := roundTrip(t, request(t, "HEAD", big.Path))
		t.Check(expectFile(expectPersistent(t, c, resp, get(t, hello.Path)), hello))
	})

	rfc9112_9_3.It("http10-closes", spec.MUST, "closes an HTTP/1.0 connection without keep-alive after the response", spec.Inferred("If the received protocol is HTTP/1.0, the \"keep-alive\" connection option is present, either the recipient is not a proxy or the message is a response, and the recipient wishes to honor the HTTP/1.0 \"keep-alive\" mechanism, the connection will persist after the current response; otherwise, The connection will close after the current response.", "RFC 9112 9.3 states the rule without a key word; the suite reads \"will close\" as a MUST"), func(t *spec.T) {
		c, resp := roundTrip(t, request10("GET", hello.Path))
		t.Check(expectFile(resp, hello))
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
	})

	rfc9112_9_3.It("http10-no-keep-alive-announced", spec.MUST, "does not announce keep-alive to an HTTP/1.0 request that did not ask for it", spec.Inferred(`If the received protocol is HTTP/1.0, the "keep-alive" connection option is present, either the recipient is not a proxy or the message is a response, and the recipient wishes to honor the HTTP/1.0 "keep-alive" mechanism, the connection will persist after the current response; otherwise,`, "RFC 9112 9.3 states it without a key word: without the option the connection closes after the response, so a keep-alive announced unasked misstates the connection's persistence to the HTTP/1.0 client"), func(t *spec.T) {
		resp := fetch(t, request10("GET", hello.Path))
		if resp.Header.HasToken("Connection", "keep-alive") {
			t.Mismatch("no keep-alive connection option", "Connection: %s", resp.Header.Get("Connection"))
		}
	})

	rfc9112_9_3.It("http10-keep-alive", spec.MUST, "keeps an HTTP/1.0 keep-alive connection open when it answers keep-alive, else closes", spec.Inferred("the connection will persist after the current response; otherwise, The connection will close after the current response", "RFC 9112 9.3 states the rule without a key word: a keep-alive answer keeps the connection, any other closes it"), func(t *spec.T) {
		c, resp := roundTrip(t, request10("GET", hello.Path, "Connection: keep-alive"))
		t.Check(expectFile(resp, hello))
		if !resp.Header.HasToken("Connection", "keep-alive") || resp.Header.HasToken("Connection", "close") {
			t.Check(c.ExpectClosed(c.Scaled(closeWait)))
			return
		}
		r2, err := ReadResponseAfter(c, request10("GET", index.Path, "Connection: keep-alive"))
		t.Check(err)
		t.Check(expectFile(r2, index))
	})

	rfc9112_9_3.It("http10-keep-alive-honored", spec.MAY, "honors the HTTP/1.0 keep-alive mechanism", spec.Inferred("the recipient wishes to honor the HTTP/1.0 \"keep-alive\" mechanism", "RFC 9112 9.3 leaves honoring keep-alive to the recipient's wish: an option, read as MAY"), func(t *spec.T) {
		c, resp := roundTrip(t, request10("GET", hello.Path, "Connection: keep-alive"))
		if !resp.Header.HasToken("Connection", "keep-alive") {
			t.Mismatch("Connection: keep-alive in the response", "Connection: %q", resp.Header.Get("Connection"))
		}
		r2, err := ReadResponseAfter(c, request10("GET", index.Path, "Connection: keep-alive"))
		t.Check(err)
		t.Check(expectFile(r2, index))
	})

	rfc9112_9_3.It("http10-keep-alive-framed", spec.MUST, "frames a keep-alive HTTP/1.0 response by Content-Length", spec.Inferred("In order to remain persistent, all messages on a connection need to have a self-defined message length (i.e., one not defined by closure of the connection)", "RFC 9112 9.3 states it without a key word; HTTP/1.0 has no chunked coding, so only Content-Length frames a persistent HTTP/1.0 response"), func(t *spec.T) {
		resp := fetch(t, request10("GET", big.Path, "Connection: keep-alive"))
		if resp.Header.HasToken("Connection", "keep-alive") && resp.Framing != FramingLength {
			t.Mismatch("Content-Length framing on a persistent HTTP/1.0 connection", "framing %s", resp.Framing)
		}
	})

	for _, v := range []struct{ slug, value string }{
		{"close", "close"},
		{"close-uppercase", "CLOSE"},
		{"close-in-list", "keep-alive, close"},
		{"close-with-other-option", "x-option, close"},
	} {
		rfc9112_9_6.It("closes-on-"+v.slug, spec.MUST, "closes the connection after answering \"Connection: "+v.value+"\"", spec.Quote(`"A server that receives a "close" connection option MUST initiate closure of the connection (see below) after it sends the final response to the request that contained the "close" connection option. The server SHOULD send a "close" connection option in its final response on that connection."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			c, resp := roundTrip(t, get(t, hello.Path, "Connection: "+v.value))
			t.Check(expectFile(resp, hello))
			t.Check(c.ExpectClosed(c.Scaled(closeWait)))
		})
	}

	rfc9112_9_6.It("announces-close", spec.SHOULD, "sends the close option in the response to a request with close", spec.Quote("The server SHOULD send a \"close\" connection option in its final response on that connection."), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path, "Connection: close"))
		if !resp.Header.HasToken("Connection", "close") {
			t.Mismatch("Connection: close", "Connection: %q", resp.Header.Get("Connection"))
		}
	})

	rfc9112_9_6.It("close-on-error-response", spec.MUST, "closes after an error response to a request with close", spec.Quote("A server that receives a \"close\" connection option MUST initiate closure of the connection (see below) after it sends the final response to the request that contained the \"close\" connection option.").SharedBecause("the closes-on-* specs and this one are cases of one sentence: a 404 is a final response too"), func(t *spec.T) {
		c, resp := roundTrip(t, get(t, "/no-such-file", "Connection: close"))
		t.Check(expectStatus(resp, 404, 410))
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
	})

	rfc9112_9_6.It("no-request-after-close", spec.MUST, "does not answer a request pipelined after one with close", spec.Quote(`The server MUST NOT process any further requests received on that connection.`), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(get(t, hello.Path, "Connection: close") + get(t, index.Path))
		t.Check(expectFile(read(t, c, "GET"), hello))
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
	})

	rfc9112_9_6.It("closes-after-announcing", spec.MUST, "closes the connection after a response that announces close", spec.Quote("A server that sends a \"close\" connection option MUST initiate closure of the connection (see below) after it sends the response containing the \"close\" connection option."), func(t *spec.T) {
		for _, raw := range []string{get(t, hello.Path), "GET " + hello.Path + " HTTP/1.1\r\n\r\n", get(t, "/no-such-file")} {
			c := t.Dial(service)
			c.Send(raw + get(t, index.Path))
			resp, err := ReadResponse(c, "GET")
			t.Check(err)
			if resp.Header.HasToken("Connection", "close") {
				t.Check(c.ExpectClosed(c.Scaled(closeWait)))
			}
		}
	})

	rfc9112_9_6.It("answers-after-half-close", spec.SHOULD, "answers a request whose client half-closed right after it", spec.Inferred("To avoid the TCP reset problem, servers typically close a connection in stages. First, the server performs a half-close by closing only the write side of the read/write connection.", "RFC 9112 9.6 describes the staged close without a key word; a request whose client half-closed right after it is still a request received"), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(get(t, hello.Path, "Connection: close"))
		t.Check(c.CloseWrite())
		t.Check(expectFile(read(t, c, "GET"), hello))
	})

	rfc9112_9_3_2.It("pipelined-in-order", spec.MUST, "answers three pipelined requests in order", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received."), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(get(t, big.Path) + get(t, hello.Path) + get(t, index.Path))
		t.Check(expectFile(read(t, c, "GET"), big))
		t.Check(expectFile(read(t, c, "GET"), hello))
		t.Check(expectFile(read(t, c, "GET"), index))
	})

	rfc9112_9_3_2.It("pipelined-ten", spec.MUST, "answers ten pipelined requests in order", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.").SharedBecause("each pipelined-* spec is a case of the in-order rule"), func(t *spec.T) {
		c := t.Dial(service)
		var b strings.Builder
		order := []fixture.File{hello, index, empty, oneK, dirIx, hello, big, empty, index, oneK}
		for _, f := range order {
			b.WriteString(get(t, f.Path))
		}
		c.Send(b.String())
		for _, f := range order {
			t.Check(expectFile(read(t, c, "GET"), f))
		}
	})

	rfc9112_9_3_2.It("pipelined-head-in-middle", spec.MUST, "answers GET, HEAD, GET pipelined, the HEAD without content", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.").SharedBecause("each pipelined-* spec is a case of the in-order rule"), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(get(t, hello.Path) + request(t, "HEAD", big.Path) + get(t, index.Path))
		t.Check(expectFile(read(t, c, "GET"), hello))
		t.Check(expectStatus(read(t, c, "HEAD"), 200))
		t.Check(expectFile(expectNextIsResponse(t, c, "GET"), index))
	})

	rfc9112_9_3_2.It("pipelined-with-errors", spec.MUST, "answers pipelined requests in order when one is a 404", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.").SharedBecause("each pipelined-* spec is a case of the in-order rule"), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(get(t, hello.Path) + get(t, "/no-such-file") + get(t, index.Path))
		t.Check(expectFile(read(t, c, "GET"), hello))
		t.Check(expectStatus(read(t, c, "GET"), 404, 410))
		t.Check(expectFile(read(t, c, "GET"), index))
	})

	rfc9112_9_3_2.It("pipelined-conditional", spec.MUST, "answers a pipelined 304 and the request after it in order", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.").SharedBecause("each pipelined-* spec is a case of the in-order rule"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		c := t.Dial(service)
		c.Send(get(t, hello.Path, "If-None-Match: "+etag) + get(t, index.Path))
		t.Check(expectStatus(read(t, c, "GET"), 304))
		t.Check(expectFile(expectNextIsResponse(t, c, "GET"), index))
	})

	rfc9112_9_3_2.It("pipelined-after-post", spec.MUST, "answers a request pipelined after a POST with content", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.").SharedBecause("each pipelined-* spec is a case of the in-order rule"), func(t *spec.T) {
		expectFramed(t, withBody(t, "POST", bodyTarget(t), "a=1&b=2"))
	})

	rfc9112_9_3_2.It("request-split-bytes", spec.MUST, "reads a request that arrives a few octets at a time", spec.Inferred("A server MAY process a sequence of pipelined requests in parallel ... but it MUST send the corresponding responses in the same order that the requests were received.", "the suite's reading: a request whose octets arrive a few at a time is still one request received; where TCP splits the stream is no part of the message"), func(t *spec.T) {
		c := t.Dial(service)
		raw := get(t, hello.Path)
		for i := 0; i < len(raw); i += 7 {
			c.Send(raw[i:min(i+7, len(raw))])
			time.Sleep(2 * time.Millisecond)
		}
		t.Check(expectFile(read(t, c, "GET"), hello))
	})

	rfc9112_9_3_2.It("pipeline-split-mid-request", spec.MUST, "reads pipelined requests split in the middle of the second", spec.Quote("A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.").SharedBecause("each pipelined-* spec is a case of the in-order rule"), func(t *spec.T) {
		c := t.Dial(service)
		raw := get(t, hello.Path) + get(t, index.Path)
		cut := len(get(t, hello.Path)) + 10
		c.Send(raw[:cut])
		t.Check(expectFile(read(t, c, "GET"), hello))
		c.Send(raw[cut:])
		t.Check(expectFile(read(t, c, "GET"), index))
	})

	rfc9112_9_1.It("concurrent-connections", spec.SHOULD, "serves a second connection while the first one idles", spec.Inferred("Each HTTP connection maps to one underlying transport connection.", "RFC 9112 9.1 states no key word; a server that serves one connection at a time starves every other client (9.4 asks clients to limit, not to avoid, simultaneous connections)"), func(t *spec.T) {
		a := t.Dial(service)
		a.Send("GET " + hello.Path + " HTTP/1.1\r\n") // incomplete head
		b := t.Dial(service)
		b.Send(get(t, index.Path))
		t.Check(expectFile(read(t, b, "GET"), index))
		a.Send("Host: " + host(t) + "\r\n\r\n")
		t.Check(expectFile(read(t, a, "GET"), hello))
	})
})

// ReadResponseAfter sends raw on c, which must still be open, and reads
// the response.
func ReadResponseAfter(c *spec.Conn, raw string) (*Response, error) {
	if err := c.TrySend(raw); err != nil {
		return nil, err
	}
	return ReadResponse(c, methodOf(raw))
}
