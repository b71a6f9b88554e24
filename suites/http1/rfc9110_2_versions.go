package http1

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_2_5 = spec.Section("http1", "rfc9110", "2.5", "Protocol Version")

// RFC 9110 2 Conformance: Protocol Version.
var _ = Describe("RFC 9110 2 Conformance: Protocol Version", func() {
	rfc9110_2_5.It("version-for-1.1", spec.SHOULD, "answers HTTP/1.1 to an HTTP/1.1 request", spec.Quote(`A server SHOULD send a response version equal to the highest version to which the server is conformant that has a major version less than or equal to the one received in the request.`).In("6.2"), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path))
		t.Check(spec.Equal("the response's HTTP-version", []byte("HTTP/1.1"), []byte(resp.Proto)))
	})

	rfc9110_2_5.It("version-for-1.0", spec.SHOULD, "answers HTTP/1.1 (its highest 1.x) to an HTTP/1.0 request", spec.Quote("A server SHOULD send a response version equal to the highest version to which the server is conformant that has a major version less than or equal to the one received in the request.").SharedBecause("the HTTP/1.0 case").In("6.2"), func(t *spec.T) {
		resp := fetch(t, request10("GET", hello.Path))
		t.Check(spec.OneOf("the response's HTTP-version", []byte(resp.Proto), []byte("HTTP/1.1"), []byte("HTTP/1.0")))
		t.Check(expectFile(resp, hello))
	})

	rfc9110_2_5.It("no-higher-version", spec.MUST, "does not answer HTTP/1.2 to an HTTP/1.2 request", spec.Quote(`A server MUST NOT send a version to which it is not conformant.`).In("6.2"), func(t *spec.T) {
		resp := fetch(t, requestV(t, "HTTP/1.2", "GET", hello.Path))
		if resp.Proto == "HTTP/1.2" || resp.Major != 1 {
			t.Mismatch("HTTP/1.1 or HTTP/1.0", "%s", resp.Proto)
		}
	})

	rfc9110_2_5.It("higher-minor-as-1.1", spec.SHOULD, "serves an HTTP/1.2 request as HTTP/1.1", spec.Quote(`A recipient that receives a message with a major version number that it implements and a minor version number higher than what it implements SHOULD process the message as if it were in the highest minor version within that major version to which the recipient is conformant.`).In("6.2"), func(t *spec.T) {
		resp := fetch(t, requestV(t, "HTTP/1.2", "GET", hello.Path))
		t.Check(expectFile(resp, hello))
	})

	rfc9110_2_5.It("higher-minor-persistent", spec.SHOULD, "keeps the connection of an HTTP/1.2 request open, as for HTTP/1.1", spec.Quote(`A recipient that receives a message with a major version number that it implements and a minor version number higher than what it implements SHOULD process the message as if it were in the highest minor version within that major version to which the recipient is conformant.`).SharedBecause("the persistence case of reading HTTP/1.2 as HTTP/1.1").In("6.2"), func(t *spec.T) {
		c, resp := roundTrip(t, requestV(t, "HTTP/1.2", "GET", hello.Path))
		t.Check(expectFile(resp, hello))
		t.Check(expectFile(expectPersistent(t, c, resp, get(t, index.Path)), index))
	})

	rfc9110_2_5.It("higher-minor-needs-host", spec.SHOULD, "requires Host in an HTTP/1.2 request, as in HTTP/1.1", spec.Quote(`A recipient that receives a message with a major version number that it implements and a minor version number higher than what it implements SHOULD process the message as if it were in the highest minor version within that major version to which the recipient is conformant.`).SharedBecause("the Host case of reading HTTP/1.2 as HTTP/1.1").In("6.2"), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" HTTP/1.2\r\n\r\n")
		t.Check(expectRejected(resp, err, 400))
	})

	for _, v := range []string{"HTTP/2.0", "HTTP/3.1", "HTTP/9.9", "HTTP/0.1"} {
		slug := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(v, "HTTP/"), ".", "-"))
		rfc9110_2_5.It("unsupported-major-"+slug, spec.MAY, "answers an "+v+" request-line with 505 (or 400, or closes)", spec.Inferred(`RFC 9110 15.6.6: "The 505 (HTTP Version Not Supported) status code indicates that the server does not support, or refuses to support, the major version of HTTP that was used in the request message." Nothing requires the refusal: answering in HTTP/1.1 also follows 6.2 ("the highest version ... less than or equal to the one received").`, "RFC 9110 15.6.6 lets a server refuse a major version; refusing is the option, answering as HTTP/1.1 is allowed too (2.5)").SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			_, resp, err := exchange(t, "GET "+hello.Path+" "+v+"\r\nHost: "+host(t)+"\r\n\r\n")
			t.Check(expectRejected(resp, err, 505, 400))
		})
	}

	rfc9110_2_5.It("h2-preface", spec.MAY, "refuses an HTTP/2 connection preface on an HTTP/1.1 port", spec.Inferred("The server is indicating that it is unable or unwilling to complete the request using the same major version as the client, as described in Section 2.5, other than with this error message.", "RFC 9110 15.6.6: refusing a major version is the server's option; an HTTP/2 preface (RFC 9113 3.4) asks for HTTP/2.0").In("15.6.6"), func(t *spec.T) {
		_, resp, err := exchange(t, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
		t.Check(expectRejected(resp, err, 505, 400, 405, 501))
	})
})
