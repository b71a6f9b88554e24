package http1

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_17_3 = spec.Section("http1", "rfc9110", "17.3", "Attacks Based on File and Path Names")

// expectInsideDocroot accepts a 4xx, a 3xx, or a 2xx carrying the content
// of a docroot file; never anything like /etc/passwd.
func expectInsideDocroot(resp *Response, err error) error {
	if err != nil {
		if noResponse(err) {
			return nil
		}
		return spec.Errorf("a 4xx, or a file of the docroot", "%v", err)
	}
	if looksLikePasswd(resp.Body) {
		return spec.Errorf("nothing from outside the docroot", "%s served something like /etc/passwd: %s", resp, spec.Excerpt(resp.Body, 120))
	}
	switch resp.Code / 100 {
	case 4, 3:
		return nil
	case 2:
		for _, f := range fixture.Files {
			if bytes.Equal(resp.Body, f.Content) {
				return nil
			}
		}
		return spec.Errorf("a 4xx, or a file of the docroot", "%s with %d octets that are no file of the docroot: %s", resp, len(resp.Body), spec.Excerpt(resp.Body, 120))
	}
	return spec.Errorf("a 4xx, or a file of the docroot", "%s", resp)
}

// RFC 9110 17.3: attacks based on file and path names.
var _ = Describe("RFC 9110 17.3 Path Traversal", func() {
	for _, tr := range []struct{ slug, target string }{
		{"dotdot", "/../../../../../../etc/passwd"},
		{"dotdot-in-subdir", "/dir/../../../../../../etc/passwd"},
		{"dotdot-after-file", "/hello.txt/../../../../../etc/passwd"},
		{"pct-dots", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"},
		{"pct-dots-upper", "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd"},
		{"half-pct-dots", "/.%2e/.%2e/.%2e/.%2e/.%2e/etc/passwd"},
		{"pct-slash", "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"},
		{"pct-slash-subdir", "/data/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"},
		{"backslash", "/..\\..\\..\\..\\..\\etc\\passwd"},
		{"pct-backslash", "/..%5c..%5c..%5c..%5c..%5cetc%5cpasswd"},
		{"double-encoded", "/%252e%252e/%252e%252e/%252e%252e/%252e%252e/etc/passwd"},
		{"overlong-utf8", "/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd"},
		{"absolute-path", "//etc/passwd"},
		{"pct-absolute", "/%2fetc%2fpasswd"},
		{"semicolon", "/..;/..;/..;/..;/..;/etc/passwd"},
		{"nul", "/../../../../etc/passwd%00.txt"},
		{"dot-segments-mixed", "/./../.././../../etc/./passwd"},
		{"trailing-dot", "/../../../../etc/passwd."},
	} {
		rfc9110_17_3.It("traversal-"+tr.slug, spec.MUST, "serves nothing outside the docroot for "+strings.ReplaceAll(tr.target, "\\", "\\\\"), spec.Inferred(`"an origin server needs to avoid accessing names that have a special significance to the system when mapping the target resource to files, folders, or directories. For example, UNIX, Microsoft Windows, and other operating systems use ".." as a path component to indicate a directory level above the current one".`, "RFC 9110 17.3 states it without a key word (\"needs to avoid\"); a file outside the docroot served is a disclosure every server must prevent").SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			_, resp, err := exchange(t, get(t, tr.target))
			t.Check(expectInsideDocroot(resp, err))
		})
	}

	rfc9110_17_3.It("traversal-absolute-form", spec.MUST, "serves nothing outside the docroot for an absolute-form target with ..", spec.Inferred(`"an origin server needs to avoid accessing names that have a special significance to the system when mapping the target resource to files, folders, or directories. For example, UNIX, Microsoft Windows, and other operating systems use ".." as a path component to indicate a directory level above the current one".`, "RFC 9110 17.3 states it without a key word (\"needs to avoid\"); a file outside the docroot served is a disclosure every server must prevent").SharedBecause("the absolute-form case"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, "http://"+host(t)+"/../../../../etc/passwd"))
		t.Check(expectInsideDocroot(resp, err))
	})

	rfc9110_17_3.It("traversal-http10", spec.MUST, "serves nothing outside the docroot to an HTTP/1.0 request with ..", spec.Inferred(`"an origin server needs to avoid accessing names that have a special significance to the system when mapping the target resource to files, folders, or directories. For example, UNIX, Microsoft Windows, and other operating systems use ".." as a path component to indicate a directory level above the current one".`, "RFC 9110 17.3 states it without a key word (\"needs to avoid\"); a file outside the docroot served is a disclosure every server must prevent").SharedBecause("the HTTP/1.0 case"), func(t *spec.T) {
		_, resp, err := exchange(t, request10("GET", "/../../../../etc/passwd"))
		t.Check(expectInsideDocroot(resp, err))
	})

	rfc9110_17_3.It("traversal-upload-put", spec.MUST, "does not let a PUT write outside the upload area", spec.Inferred(`"an origin server needs to avoid accessing names that have a special significance to the system when mapping the target resource to files, folders, or directories. For example, UNIX, Microsoft Windows, and other operating systems use ".." as a path component to indicate a directory level above the current one".`, "RFC 9110 17.3 states it without a key word (\"needs to avoid\"); a file outside the docroot served is a disclosure every server must prevent").SharedBecause("the PUT case: nothing is written outside the upload area"), func(t *spec.T) {
		t.Require(featUpload)
		removeAfter(t, "/upload/..%2f..%2fescaped.txt")
		_, resp, err := exchange(t, withBody(t, "PUT", "/upload/..%2f..%2fescaped.txt", "x"))
		if err == nil && resp.Code/100 == 2 {
			t.Mismatch("a 4xx for an encoded ../ in a PUT target", "%s", resp)
		}
		_, resp, err = exchange(t, get(t, "/escaped.txt"))
		if err == nil && resp.Code == 200 {
			t.Mismatch("no /escaped.txt created by the PUT", "%s", resp)
		}
	})

})
