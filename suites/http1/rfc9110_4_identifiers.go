package http1

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_4_2_3 = spec.Section("http1", "rfc9110", "4.2.3", "http(s) Normalization and Comparison")

// RFC 9110 4 Identifiers in HTTP.
var _ = Describe("RFC 9110 4 Identifiers in HTTP", func() {
	rfc9110_4_2_3.It("dot-segments-inside-root", spec.MUST, "resolves /data/../hello.txt to /hello.txt, or refuses it", spec.Inferred(`RFC 3986 5.2.4 (remove_dot_segments), used by RFC 9110 4.2.3 normalization: a dot-segment that stays inside the root names a docroot file, or the server refuses dot-segments altogether.`, "RFC 3986 5.2.4, as RFC 9110 4.2.3 uses it: dot-segments are resolved before a path names a file"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, "/data/../hello.txt"))
		t.Check(expectServedOrRejected(resp, err, hello, 400, 403, 404))
	})

	rfc9110_4_2_3.It("single-dot-segment", spec.MUST, "resolves /./hello.txt to /hello.txt, or refuses it", spec.Inferred(`RFC 3986 5.2.4 (remove_dot_segments), used by RFC 9110 4.2.3 normalization: a dot-segment that stays inside the root names a docroot file, or the server refuses dot-segments altogether.`, "RFC 3986 5.2.4, as RFC 9110 4.2.3 uses it: dot-segments are resolved before a path names a file").SharedBecause("the single-dot case"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, "/./hello.txt"))
		t.Check(expectServedOrRejected(resp, err, hello, 400, 403, 404))
	})
})
