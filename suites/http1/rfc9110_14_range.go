package http1

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_14_2 = spec.Section("http1", "rfc9110", "14.2", "Range")
var rfc9110_14_6 = spec.Section("http1", "rfc9110", "14.6", "Media Type multipart/byteranges")
var rfc9110_14_1_1 = spec.Section("http1", "rfc9110", "14.1.1", "Range Specifiers")
var rfc9110_14_3 = spec.Section("http1", "rfc9110", "14.3", "Accept-Ranges")

var contentRangeRE = regexp.MustCompile(`^bytes ([0-9]+)-([0-9]+)/([0-9]+|\*)$`)

// part is one range of a 206 response.
type part struct {
	first, last int64
	data        []byte
}

// rangeParts checks a 206 response for f's content (RFC 9110 14.4, 14.6,
// 15.3.7) and returns its parts: one from Content-Range, or those of a
// multipart/byteranges body.
func rangeParts(resp *Response, content []byte) ([]part, error) {
	size := int64(len(content))
	check := func(cr string, data []byte) (part, error) {
		m := contentRangeRE.FindStringSubmatch(cr)
		if m == nil {
			return part{}, spec.Errorf(`Content-Range "bytes first-last/length"`, "%q", cr)
		}
		first, _ := strconv.ParseInt(m[1], 10, 64)
		last, _ := strconv.ParseInt(m[2], 10, 64)
		if m[3] != strconv.FormatInt(size, 10) || first > last || last >= size {
			return part{}, spec.Errorf(fmt.Sprintf("a Content-Range within bytes 0-%d/%d", size-1, size), "%q", cr)
		}
		if err := spec.Equal("the content of range "+m[1]+"-"+m[2], content[first:last+1], data); err != nil {
			return part{}, err
		}
		return part{first, last, data}, nil
	}
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "multipart/byteranges" {
		if !resp.Header.Has("Content-Range") {
			// 15.3.7.1: "If a single part is being transferred, the server
			// generating the 206 response MUST generate a Content-Range header
			// field".
			return nil, spec.Errorf("Content-Range in a single-part 206", "none:\n%s", headText(resp))
		}
		p, err := check(resp.Header.Get("Content-Range"), resp.Body)
		return []part{p}, err
	}
	// 15.3.7.2: "To avoid confusion with single-part responses, a server
	// MUST NOT generate a Content-Range header field in the HTTP header
	// section of a multiple part response".
	if resp.Header.Has("Content-Range") {
		return nil, spec.Errorf("no Content-Range in the header section of a multipart 206", "Content-Range: %s", resp.Header.Get("Content-Range"))
	}
	if params["boundary"] == "" {
		return nil, spec.Errorf("a boundary parameter in multipart/byteranges", "%q", resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(resp.Body), params["boundary"])
	var parts []part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, spec.Errorf("a well-formed multipart/byteranges body", "%v", err)
		}
		data, err := io.ReadAll(io.LimitReader(p, maxBody))
		if err != nil {
			return nil, spec.Errorf("a well-formed multipart/byteranges body", "%v", err)
		}
		// 15.3.7.2: "Within the header area of each body part in the
		// multipart content, the server MUST generate a Content-Range header
		// field corresponding to the range being enclosed in that body part."
		pp, err := check(p.Header.Get("Content-Range"), data)
		if err != nil {
			return nil, err
		}
		parts = append(parts, pp)
	}
	if len(parts) == 0 {
		return nil, spec.Errorf("at least one part in multipart/byteranges", "none")
	}
	return parts, nil
}

// covers reports whether the parts include every octet of first..last.
func covers(parts []part, first, last int64) bool {
	for i := first; i <= last; i++ {
		in := false
		for _, p := range parts {
			in = in || (i >= p.first && i <= p.last)
		}
		if !in {
			return false
		}
	}
	return true
}

// rangeGet fetches oneK with a Range; 200 (ranges ignored, as 14.2 allows)
// passes after a content check, and 206 is checked to cover want.
func rangeGet(t *spec.T, rng string, want ...[2]int64) *Response {
	resp := fetch(t, get(t, oneK.Path, "Range: "+rng))
	switch resp.Code {
	case 200:
		t.Check(expectFile(resp, oneK))
		t.Note("the target ignored the Range field (RFC 9110 14.2 allows it)")
	case 206:
		parts, err := rangeParts(resp, oneK.Content)
		t.Check(err)
		for _, w := range want {
			if !covers(parts, w[0], w[1]) {
				t.Mismatch(fmt.Sprintf("a 206 covering bytes %d-%d", w[0], w[1]), "parts %v", partsText(parts))
			}
		}
	default:
		t.Check(expectStatus(resp, 206, 200))
	}
	return resp
}

func partsText(ps []part) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("%d-%d", p.first, p.last)
	}
	return strings.Join(s, ", ")
}

// RFC 9110 section 14: range requests, on /data/1k.bin (1024 octets).
var _ = Describe("RFC 9110 14 Range Requests", func() {
	for _, r := range []struct {
		slug, rng   string
		first, last int64
	}{
		{"first-100", "bytes=0-99", 0, 99},
		{"middle", "bytes=100-199", 100, 199},
		{"suffix", "bytes=-100", 924, 1023},
		{"open-ended", "bytes=1000-", 1000, 1023},
		{"last-beyond-end", "bytes=1000-5000", 1000, 1023},
		{"one-byte", "bytes=5-5", 5, 5},
		{"whole", "bytes=0-1023", 0, 1023},
		{"suffix-larger", "bytes=-5000", 0, 1023},
	} {
		rfc9110_14_2.It("single-range-"+r.slug, spec.MUST, "answers Range: "+r.rng+" with a correct 206 (or ignores it)", spec.Quote(`"A server MAY ignore the Range header field." 15.3.7: "If a single part is being transferred, the server generating the 206 response MUST generate a Content-Range header field, describing what range of the selected representation is enclosed, and a content consisting of the range."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			resp := rangeGet(t, r.rng, [2]int64{r.first, r.last})
			if resp.Code == 206 {
				// 14.6: "A server MUST NOT generate a multipart response to a
				// request for a single range".
				if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "multipart/byteranges" {
					t.Mismatch("a single-part 206 for a single range", "multipart/byteranges")
				}
				t.Check(spec.Equal("the 206 Content-Length", []byte(strconv.FormatInt(r.last-r.first+1, 10)), []byte(resp.Header.Get("Content-Length"))))
			}
		})
	}

	rfc9110_14_2.It("supports-ranges", spec.MAY, "answers a byte range with 206", spec.Quote("A server MAY ignore the Range header field. However, origin servers and intermediate caches ought to support byte ranges when possible, since they support efficient recovery from partially failed transfers and partial retrieval of large representations."), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, oneK.Path, "Range: bytes=0-9")), 206))
	})

	rfc9110_14_6.It("multiple-ranges", spec.MUST, "answers two ranges with a correct 206 covering both (or ignores them)", spec.Inferred(`14.6 / 15.3.7.2: multiple ranges in multipart/byteranges; 15.3.7.2: "When multiple ranges are requested, a server MAY coalesce any of the ranges that overlap, or that are separated by a gap that is smaller than the overhead of sending multiple parts".`, "RFC 9110 14.6 and 15.3.7.2 describe multipart/byteranges without a key word; a 206 must cover the ranges asked, or the server ignores Range (MAY)"), func(t *spec.T) {
		rangeGet(t, "bytes=0-9,500-509", [2]int64{0, 9}, [2]int64{500, 509})
	})

	rfc9110_14_6.It("three-ranges", spec.MUST, "answers three ranges with a correct 206 covering them (or ignores them)", spec.Inferred(`14.6 / 15.3.7.2: multiple ranges in multipart/byteranges; 15.3.7.2: "When multiple ranges are requested, a server MAY coalesce any of the ranges that overlap, or that are separated by a gap that is smaller than the overhead of sending multiple parts".`, "RFC 9110 14.6 and 15.3.7.2 describe multipart/byteranges without a key word; a 206 must cover the ranges asked, or the server ignores Range (MAY)").SharedBecause("three ranges instead of two"), func(t *spec.T) {
		rangeGet(t, "bytes=10-19, 300-309, -5", [2]int64{10, 19}, [2]int64{300, 309}, [2]int64{1019, 1023})
	})

	for _, r := range []struct {
		slug, path, rng string
		size            int
	}{
		{"beyond-end", oneK.Path, "bytes=5000-6000", len(oneK.Content)},
		{"at-end", oneK.Path, "bytes=1024-", len(oneK.Content)},
		{"empty-file", empty.Path, "bytes=0-0", 0},
		{"zero-suffix", oneK.Path, "bytes=-0", len(oneK.Content)},
	} {
		rfc9110_14_2.It("unsatisfiable-"+r.slug, spec.SHOULD, "answers the unsatisfiable "+r.rng+" on "+r.path+" with 416", spec.Quote(`If all of the preconditions are true, the server supports the Range header field for the target resource, the received Range field-value contains a valid ranges-specifier, and either the range-unit is not supported for that target resource or the ranges-specifier is unsatisfiable with respect to the selected representation, the server SHOULD send a 416 (Range Not Satisfiable) response.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			resp := fetch(t, get(t, r.path, "Range: "+r.rng))
			t.Check(expectStatus(resp, 416))
			// 15.5.17: "When this status code is generated in response to a
			// byte-range request, the sender SHOULD generate a Content-Range
			// header field specifying the current length of the selected
			// representation".
			t.Check(spec.Equal("Content-Range of the 416", []byte("bytes */"+strconv.Itoa(r.size)), []byte(resp.Header.Get("Content-Range"))))
		})
	}

	rfc9110_14_2.It("unsatisfiable-not-206", spec.MUST, "never answers an unsatisfiable range with 206", spec.Inferred(`If all of the preconditions are true, the server supports the Range header field for the target resource, the received Range field-value contains a valid ranges-specifier, and either the range-unit is not supported for that target resource or the ranges-specifier is unsatisfiable with respect to the selected representation, the server SHOULD send a 416 (Range Not Satisfiable) response.`, "RFC 9110 14.2 answers an unsatisfiable range with 416 (SHOULD); a 206 for it would claim a part that does not exist").SharedBecause("the 206 half of the 416 rule the unsatisfiable-* specs check"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=5000-6000"))
		if resp.Code == 206 {
			t.Mismatch("416 or 200", "206 for a range beyond the end")
		}
	})

	rfc9110_14_2.It("unknown-unit-ignored", spec.MUST, "ignores a Range in an unknown unit", spec.Quote(`"An int-range is invalid if the last-pos value is present and less than the first-pos." 14.2: "An origin server MUST ignore a Range header field that contains a range unit it does not understand."`), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, oneK.Path, "Range: items=0-5")), oneK))
	})

	for _, r := range []struct{ slug, rng string }{
		{"reversed", "bytes=100-50"},
		{"no-dash", "bytes=100"},
		{"garbage", "bytes=a-b"},
	} {
		rfc9110_14_1_1.It("invalid-"+r.slug, spec.MUST, "does not answer the invalid Range "+r.rng+" with 206", spec.Quote(`"An int-range is invalid if the last-pos value is present and less than the first-pos." 14.2: "An origin server MUST ignore a Range header field that contains a range unit it does not understand."`).SharedBecause("one spec per invalid range"), func(t *spec.T) {
			resp := fetch(t, get(t, oneK.Path, "Range: "+r.rng))
			if resp.Code == 200 {
				t.Check(expectFile(resp, oneK))
				return
			}
			t.Check(expectStatus(resp, 200, 416, 400))
		})
	}

	// Where the RFC text is in tension: RFC 9110 14.2 says "A server MUST
	// ignore a Range header field received with a request method that is
	// unrecognized or for which range handling is not defined. For this
	// specification, GET is the only method for which range handling is
	// defined.", while 9.3.2 makes HEAD "identical to GET except that the
	// server MUST NOT send content in the response", which a 206 head
	// would mirror. 14.2 is the text about Range and names its methods:
	// GET alone, so HEAD is a method "for which range handling is not
	// defined" and the MUST applies. 9.3.2 does not contradict it: the
	// answer to HEAD mirrors the GET of the same request, and a GET for
	// which range handling is ignored is a 200. So head-ignores-range is
	// a MUST (200), and head-with-range checks the framing only: no
	// content after the head, whatever the status.
	rfc9110_14_2.It("head-with-range", spec.MUST, "answers HEAD with Range without content, so the next response reads right", spec.Inferred(`"A server MUST ignore a Range header field received with a request method that is unrecognized or for which range handling is not defined. For this specification, GET is the only method for which range handling is defined." 9.3.2 makes HEAD "identical to GET except that the server MUST NOT send content": a 206 head consistent with the GET one is accepted too.`, "RFC 9110 9.3.2 forbids content in the answer to HEAD; the status is head-ignores-range's to judge").SharedBecause("the framing half of the HEAD case"), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(request(t, "HEAD", oneK.Path, "Range: bytes=0-9") + get(t, hello.Path))
		resp := read(t, c, "HEAD")
		t.Check(expectStatus(resp, 200, 206))
		if resp.Code == 206 {
			t.Check(spec.Equal("Content-Range", []byte("bytes 0-9/1024"), []byte(resp.Header.Get("Content-Range"))))
		}
		t.Check(expectFile(expectNextIsResponse(t, c, "GET"), hello))
	})

	rfc9110_14_2.It("head-ignores-range", spec.MUST, "ignores Range on a HEAD request (GET is the only method with range handling)", spec.Quote(`"A server MUST ignore a Range header field received with a request method that is unrecognized or for which range handling is not defined. For this specification, GET is the only method for which range handling is defined." 9.3.2 makes HEAD "identical to GET except that the server MUST NOT send content": a 206 head consistent with the GET one is accepted too.`).SharedBecause("the HEAD case of the sentence"), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, request(t, "HEAD", oneK.Path, "Range: bytes=0-9")), 200))
	})

	rfc9110_14_2.It("post-ignores-range", spec.MUST, "ignores Range on a POST", spec.Quote(`"A server MUST ignore a Range header field received with a request method that is unrecognized or for which range handling is not defined. For this specification, GET is the only method for which range handling is defined." 9.3.2 makes HEAD "identical to GET except that the server MUST NOT send content": a 206 head consistent with the GET one is accepted too.`).SharedBecause("the POST case of the same sentence"), func(t *spec.T) {
		t.Require(featEcho)
		resp := fetch(t, withBody(t, "POST", "/echo", "0123456789", "Range: bytes=0-1"))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("0123456789")))
	})

	rfc9110_14_3.It("accept-ranges-syntax", spec.MUST, "sends a well-formed Accept-Ranges, if any", spec.Inferred(`"Accept-Ranges = acceptable-ranges", "acceptable-ranges = 1#range-unit"; "The range unit "none" is reserved for this purpose."`, "the grammar of RFC 9110 14.3; a malformed value cannot be read"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path))
		for _, m := range resp.Header.List("Accept-Ranges") {
			if !wire.IsToken(m) {
				t.Mismatch("Accept-Ranges = 1#range-unit / \"none\"", "%q", resp.Header.Get("Accept-Ranges"))
			}
		}
	})

	rfc9110_14_3.It("accept-ranges-bytes", spec.MAY, "advertises Accept-Ranges: bytes", spec.Inferred(`"Accept-Ranges = acceptable-ranges", "acceptable-ranges = 1#range-unit"; "The range unit "none" is reserved for this purpose."`, "advertising the bytes unit is the server's option (RFC 9110 14.3)").SharedBecause("the bytes value the grammar allows"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path))
		if !resp.Header.HasToken("Accept-Ranges", "bytes") {
			t.Mismatch("Accept-Ranges: bytes", "%q", resp.Header.Get("Accept-Ranges"))
		}
	})
})
