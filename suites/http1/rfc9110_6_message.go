package http1

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_6_5_1 = spec.Section("http1", "rfc9110", "6.5.1", "Limitations on Use of Trailers")
var rfc9110_6_6_1 = spec.Section("http1", "rfc9110", "6.6.1", "Date")

// RFC 9110 6 Message Abstraction.
var _ = Describe("RFC 9110 6 Message Abstraction", func() {
	for _, sc := range statusCases {
		if sc.slug == "http10" || sc.slug == "head" || sc.slug == "empty" {
			continue
		}
		rfc9110_6_6_1.It("date-in-"+sc.slug, spec.MUST, "sends Date in "+sc.title, spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			t.Check(expectHeader(fetch(t, sc.raw(t)), "Date"))
		})
	}

	rfc9110_6_6_1.It("date-in-206", spec.MUST, "sends Date in a 206", spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses`).SharedBecause("the 206 case"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=0-1"))
		if resp.Code != 206 {
			t.Skipf("not applicable: the target answered %d to a Range", resp.Code)
		}
		t.Check(expectHeader(resp, "Date"))
	})

	rfc9110_6_6_1.It("date-in-416", spec.MUST, "sends Date in a 416", spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses`).SharedBecause("the 416 case"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=9000-"))
		if resp.Code != 416 {
			t.Skipf("not applicable: the target answered %d to an unsatisfiable Range", resp.Code)
		}
		t.Check(expectHeader(resp, "Date"))
	})

	rfc9110_6_6_1.It("date-is-now", spec.SHOULD, "sends a Date within a minute of the clock (same host)", spec.Quote(`A sender that generates a Date header field SHOULD generate its field value as the best available approximation of the date and time of message generation.`), func(t *spec.T) {
		before := time.Now().Add(-time.Minute)
		resp := fetch(t, get(t, hello.Path))
		after := time.Now().Add(time.Minute)
		d, err := parseHTTPDate(resp.Header.Get("Date"))
		if err != nil {
			t.Mismatch("a Date", "%v", err)
		}
		if d.Before(before) || d.After(after) {
			t.Mismatch("a Date near "+time.Now().UTC().Format(imfFixdate), "%s", resp.Header.Get("Date"))
		}
	})

	rfc9110_6_5_1.It("trailer-content-length-ignored", spec.MUST, "does not let a Content-Length trailer change the framing", spec.Quote(`RFC 9110 6.5.1: "A recipient MUST NOT merge a trailer field into a header section unless the recipient understands the corresponding header field definition and that definition explicitly permits and defines how trailer field values can be safely merged."`).SharedBecause("one spec per prohibited trailer field"), func(t *spec.T) {
		expectFramed(t, chunkedPost(t, bodyTarget(t), "5\r\nhello\r\n0\r\nContent-Length: 100\r\n\r\n"))
	})
})
