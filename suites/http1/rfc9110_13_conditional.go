package http1

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_13_1_5 = spec.Section("http1", "rfc9110", "13.1.5", "If-Range")
var rfc9110_13_1_2 = spec.Section("http1", "rfc9110", "13.1.2", "If-None-Match")
var rfc9110_13_1_1 = spec.Section("http1", "rfc9110", "13.1.1", "If-Match")
var rfc9110_13_1_3 = spec.Section("http1", "rfc9110", "13.1.3", "If-Modified-Since")
var rfc9110_13_1_4 = spec.Section("http1", "rfc9110", "13.1.4", "If-Unmodified-Since")
var rfc9110_13_2_2 = spec.Section("http1", "rfc9110", "13.2.2", "Precedence of Preconditions")
var rfc9110_13_2_1 = spec.Section("http1", "rfc9110", "13.2.1", "When to Evaluate")
var rfc9110_8_8_3 = spec.Section("http1", "rfc9110", "8.8.3", "ETag")

// RFC 9110 section 13: conditional requests, on /hello.txt.
var _ = Describe("RFC 9110 13 Conditional Requests", func() {
	rfc9110_13_1_2.It("inm-match-304", spec.MUST, "answers If-None-Match with the current ETag with 304", spec.Quote("An origin server that evaluates an If-None-Match condition MUST NOT perform the requested method if the condition evaluates to false; instead, the origin server MUST respond with either a) the 304 (Not Modified) status code if the request method is GET or HEAD or b) the 412 (Precondition Failed) status code for all other request methods.").SharedBecause("the other-method and unquoted cases check the same sentence"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-None-Match: "+etag)), 304))
	})

	rfc9110_13_1_2.It("inm-weak-match-304", spec.MUST, "matches If-None-Match weakly: W/ of the current ETag gives 304", spec.Quote("A recipient MUST use the weak comparison function when comparing entity tags for If-None-Match (Section 8.8.3.2), since weak entity tags can be used for cache validation even if there have been changes to the representation data."), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-None-Match: W/"+etag)), 304))
	})

	rfc9110_13_1_2.It("inm-star-304", spec.MUST, "answers If-None-Match: * with 304", spec.Inferred("If the field value is \"*\", the condition is false if the origin server has a current representation for the target resource.", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-None-Match: *")), 304))
	})

	rfc9110_13_1_2.It("inm-list-304", spec.MUST, "answers an If-None-Match list containing the ETag with 304", spec.Inferred("If the field value is a list of entity tags, the condition is false if one of the listed tags matches the entity tag of the selected representation.", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, `If-None-Match: "nope", `+etag+`, "other"`)), 304))
	})

	rfc9110_13_1_2.It("inm-no-match-200", spec.MUST, "serves the file when If-None-Match does not match", spec.Inferred("When If-None-Match is present, evaluate the If-None-Match precondition: ... if true, continue to step 5 ... if false for GET/HEAD, respond 304 (Not Modified) ... if false for other methods, respond 412 (Precondition Failed)", "step 3 of RFC 9110 13.2.2 evaluation order, stated without a key word").In("13.2.2"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, `If-None-Match: "no-such-etag"`)), hello))
	})

	rfc9110_13_1_2.It("inm-head-304", spec.MUST, "answers a HEAD with matching If-None-Match with 304", spec.Quote("An origin server that evaluates an If-None-Match condition MUST NOT perform the requested method if the condition evaluates to false; instead, the origin server MUST respond with either a) the 304 (Not Modified) status code if the request method is GET or HEAD or b) the 412 (Precondition Failed) status code for all other request methods.").SharedBecause("the same rule for HEAD as for GET"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, request(t, "HEAD", hello.Path, "If-None-Match: "+etag)), 304))
	})

	rfc9110_13_1_1.It("if-match-200", spec.MUST, "serves the file when If-Match has its ETag", spec.Inferred("If the field value is a list of entity tags, the condition is true if any of the listed tags match the entity tag of the selected representation.", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Match: "+etag)), hello))
	})

	rfc9110_13_1_1.It("if-match-star-200", spec.MUST, "serves the file for If-Match: *", spec.Inferred("If the field value is \"*\", the condition is true if the origin server has a current representation for the target resource.", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Match: *")), hello))
	})

	rfc9110_13_1_1.It("if-match-fail-412", spec.MUST, "answers If-Match with another ETag with 412", spec.Quote("An origin server that evaluates an If-Match condition MUST NOT perform the requested method if the condition evaluates to false."), func(t *spec.T) {
		needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, `If-Match: "no-such-etag"`)), 412))
	})

	rfc9110_13_1_1.It("if-match-weak-412", spec.MUST, "compares If-Match strongly: W/ of the ETag gives 412", spec.Quote("An origin server MUST use the strong comparison function when comparing entity tags for If-Match (Section 8.8.3.2), since the client intends this precondition to prevent the method from being applied if there have been any changes to the representation data."), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Match: W/"+etag)), 412))
	})

	rfc9110_13_1_3.It("ims-equal-304", spec.SHOULD, "answers If-Modified-Since equal to Last-Modified with 304", spec.Quote("An origin server that evaluates an If-Modified-Since condition SHOULD NOT perform the requested method if the condition evaluates to false; instead, the origin server SHOULD generate a 304 (Not Modified) response, including only those metadata that are useful for identifying or updating a previously cached response."), func(t *spec.T) {
		lm, _ := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Modified-Since: "+lm)), 304))
	})

	rfc9110_13_1_3.It("ims-later-304", spec.SHOULD, "answers If-Modified-Since a day after Last-Modified with 304", spec.Quote("An origin server that evaluates an If-Modified-Since condition SHOULD NOT perform the requested method if the condition evaluates to false; instead, the origin server SHOULD generate a 304 (Not Modified) response, including only those metadata that are useful for identifying or updating a previously cached response.").SharedBecause("cases of the same rule: a date equal to, or later than, Last-Modified"), func(t *spec.T) {
		_, tm := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Modified-Since: "+httpDate(tm.Add(24*time.Hour)))), 304))
	})

	rfc9110_13_1_3.It("ims-earlier-200", spec.MUST, "serves the file when modified since If-Modified-Since", spec.Inferred("If the selected representation's last modification date is earlier or equal to the date provided in the field value, the condition is false. Otherwise, the condition is true.", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		_, tm := needLastModified(t, hello.Path)
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Modified-Since: "+httpDate(tm.Add(-24*time.Hour)))), hello))
	})

	rfc9110_13_1_3.It("ims-invalid-ignored", spec.MUST, "ignores an If-Modified-Since that is not an HTTP-date", spec.Quote("A recipient MUST ignore the If-Modified-Since header field if the received field value is not a valid HTTP-date, the field value has more than one member, or if the request method is neither GET nor HEAD.").SharedBecause("the future-date and method cases check the same sentence"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Modified-Since: yesterday")), hello))
	})

	rfc9110_13_1_3.It("ims-head-304", spec.SHOULD, "answers a HEAD with If-Modified-Since equal to Last-Modified with 304", spec.Quote("An origin server that evaluates an If-Modified-Since condition SHOULD NOT perform the requested method if the condition evaluates to false; instead, the origin server SHOULD generate a 304 (Not Modified) response, including only those metadata that are useful for identifying or updating a previously cached response.").SharedBecause("the same rule for HEAD as for GET"), func(t *spec.T) {
		lm, _ := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, request(t, "HEAD", hello.Path, "If-Modified-Since: "+lm)), 304))
	})

	rfc9110_13_1_4.It("ius-equal-200", spec.MUST, "serves the file when If-Unmodified-Since equals Last-Modified", spec.Inferred("If the selected representation's last modification date is earlier than or equal to the date provided in the field value, the condition is true. Otherwise, the condition is false.", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		lm, _ := needLastModified(t, hello.Path)
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Unmodified-Since: "+lm)), hello))
	})

	rfc9110_13_1_4.It("ius-earlier-412", spec.MUST, "answers If-Unmodified-Since before Last-Modified with 412", spec.Quote("An origin server that evaluates an If-Unmodified-Since condition MUST NOT perform the requested method if the condition evaluates to false."), func(t *spec.T) {
		_, tm := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Unmodified-Since: "+httpDate(tm.Add(-24*time.Hour)))), 412))
	})

	rfc9110_13_1_4.It("ius-invalid-ignored", spec.MUST, "ignores an If-Unmodified-Since that is not an HTTP-date", spec.Quote(`A recipient MUST ignore the If-Unmodified-Since header field if the received field value is not a valid HTTP-date`), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Unmodified-Since: not a date")), hello))
	})

	rfc9110_13_2_2.It("inm-overrides-ims", spec.MUST, "ignores If-Modified-Since when If-None-Match is present", spec.Quote("A recipient MUST ignore If-Modified-Since if the request contains an If-None-Match header field; the condition in If-None-Match is considered to be a more accurate replacement for the condition in If-Modified-Since, and the two are only combined for the sake of interoperating with older intermediaries that might not implement If-None-Match.").In("13.1.3"), func(t *spec.T) {
		lm, _ := needLastModified(t, hello.Path)
		needETag(t, hello.Path)
		t.Check(expectFile(fetch(t, get(t, hello.Path, `If-None-Match: "other"`, "If-Modified-Since: "+lm)), hello))
	})

	rfc9110_13_2_2.It("if-match-overrides-ius", spec.MUST, "ignores If-Unmodified-Since when If-Match is present", spec.Quote("A recipient MUST ignore If-Unmodified-Since if the request contains an If-Match header field; the condition in If-Match is considered to be a more accurate replacement for the condition in If-Unmodified-Since, and the two are only combined for the sake of interoperating with older intermediaries that might not implement If-Match.").In("13.1.4"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		_, tm := needLastModified(t, hello.Path)
		t.Check(expectFile(fetch(t, get(t, hello.Path, "If-Match: "+etag, "If-Unmodified-Since: "+httpDate(tm.Add(-24*time.Hour)))), hello))
	})

	rfc9110_13_2_2.It("if-match-before-inm", spec.MUST, "evaluates a failing If-Match (412) before If-None-Match", spec.Inferred("When recipient is the origin server and If-Match is present, evaluate the If-Match precondition: ... if true, continue to step 3 ... if false, respond 412 (Precondition Failed) unless it can be determined that the state-changing request has already succeeded", "step 1 of the RFC 9110 13.2.2 evaluation order, stated without a key word"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, `If-Match: "other"`, "If-None-Match: "+etag)), 412))
	})

	rfc9110_13_2_2.It("ius-before-ims", spec.MUST, "evaluates a failing If-Unmodified-Since (412) before If-Modified-Since", spec.Inferred("When recipient is the origin server, If-Match is not present, and If-Unmodified-Since is present, evaluate the If-Unmodified-Since precondition: ... if true, continue to step 3 ... if false, respond 412 (Precondition Failed) unless it can be determined that the state-changing request has already succeeded", "step 2 of the RFC 9110 13.2.2 evaluation order, stated without a key word"), func(t *spec.T) {
		lm, tm := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Unmodified-Since: "+httpDate(tm.Add(-24*time.Hour)), "If-Modified-Since: "+lm)), 412))
	})

	rfc9110_13_2_2.It("both-match-304", spec.MUST, "answers matching If-None-Match and If-Modified-Since with 304", spec.Quote("A recipient MUST ignore If-Modified-Since if the request contains an If-None-Match header field; the condition in If-None-Match is considered to be a more accurate replacement for the condition in If-Modified-Since, and the two are only combined for the sake of interoperating with older intermediaries that might not implement If-None-Match.").In("13.1.3").SharedBecause("If-None-Match decides whether If-Modified-Since matches or not"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		lm, _ := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-None-Match: "+etag, "If-Modified-Since: "+lm)), 304))
	})

	rfc9110_13_2_1.It("ignored-on-404", spec.MUST, "answers a conditional GET of a missing file with 404", spec.Quote("A server MUST ignore all received preconditions if its response to the same request without those conditions, prior to processing the request content, would have been a status code other than a 2xx (Successful) or 412 (Precondition Failed)."), func(t *spec.T) {
		resp := fetch(t, get(t, "/no-such-file.txt", "If-None-Match: *", "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT"))
		t.Check(expectStatus(resp, 404, 410))
	})

	rfc9110_13_2_1.It("if-match-on-404", spec.MUST, "answers If-Match on a missing file with 404 (or 412)", spec.Quote("A server MUST ignore all received preconditions if its response to the same request without those conditions, prior to processing the request content, would have been a status code other than a 2xx (Successful) or 412 (Precondition Failed).").SharedBecause("the same rule for If-Match as for If-None-Match"), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, "/no-such-file.txt", `If-Match: "x"`)), 404, 410, 412))
	})

	rfc9110_13_1_2.It("put-inm-star-existing-412", spec.MUST, "answers PUT with If-None-Match: * on an existing file with 412", spec.Quote("An origin server that evaluates an If-None-Match condition MUST NOT perform the requested method if the condition evaluates to false; instead, the origin server MUST respond with either a) the 304 (Not Modified) status code if the request method is GET or HEAD or b) the 412 (Precondition Failed) status code for all other request methods.").SharedBecause("the same rule for PUT, where it answers 412"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "inm-star")
		fetch(t, withBody(t, "PUT", p, "first\n"))
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, "second\n", "If-None-Match: *")), 412))
		t.Check(expectBody(fetch(t, get(t, p)), []byte("first\n")))
	})

	rfc9110_13_1_2.It("put-inm-star-new-201", spec.MUST, "creates a file with PUT and If-None-Match: * when it does not exist", spec.Inferred("If-None-Match can also be used with a value of \"*\" to prevent an unsafe request method (e.g., PUT) from inadvertently modifying an existing representation of the target resource when the client believes that the resource does not have a current representation", "RFC 9110 states the condition without a key word; the MUST NOT perform / MUST respond of the same section gives it force"), func(t *spec.T) {
		t.Require(featUpload)
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", uploadPath(t, "inm-new"), "x\n", "If-None-Match: *")), 201))
	})

	rfc9110_13_1_1.It("put-if-match-star-missing-412", spec.MUST, "answers PUT with If-Match: * on a missing file with 412", spec.Quote("An origin server that evaluates an If-Match condition MUST NOT perform the requested method if the condition evaluates to false.").SharedBecause("If-Match failing on PUT and DELETE, cases of one rule"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "im-star")
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, "x\n", "If-Match: *")), 412))
		t.Check(expectStatus(fetch(t, get(t, p)), 404, 410))
	})

	rfc9110_13_1_1.It("put-if-match-wrong-412", spec.MUST, "answers PUT with a stale If-Match with 412 and keeps the file", spec.Quote("An origin server that evaluates an If-Match condition MUST NOT perform the requested method if the condition evaluates to false.").SharedBecause("If-Match failing on PUT and DELETE, cases of one rule"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "im-wrong")
		fetch(t, withBody(t, "PUT", p, "keep me\n"))
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, "lost\n", `If-Match: "stale-etag"`)), 412))
		t.Check(expectBody(fetch(t, get(t, p)), []byte("keep me\n")))
	})

	rfc9110_13_1_1.It("delete-if-match-wrong-412", spec.MUST, "answers DELETE with a stale If-Match with 412 and keeps the file", spec.Quote("An origin server that evaluates an If-Match condition MUST NOT perform the requested method if the condition evaluates to false.").SharedBecause("If-Match failing on PUT and DELETE, cases of one rule"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "del-im")
		fetch(t, withBody(t, "PUT", p, "keep me\n"))
		t.Check(expectStatus(fetch(t, request(t, "DELETE", p, `If-Match: "stale-etag"`)), 412))
		t.Check(expectStatus(fetch(t, get(t, p)), 200))
	})

	rfc9110_13_1_5.It("if-range-etag-match", spec.MUST, "answers a Range with a matching If-Range ETag as a range request", spec.Quote(`"If-Range = entity-tag / HTTP-date". "A recipient of an If-Range header field MUST ignore the Range header field if the If-Range condition evaluates to false. Otherwise, the recipient SHOULD process the Range header field as requested."`), func(t *spec.T) {
		etag := needETag(t, oneK.Path)
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=0-9", "If-Range: "+etag))
		if resp.Code == 206 {
			_, err := rangeParts(resp, oneK.Content)
			t.Check(err)
			return
		}
		t.Check(expectFile(resp, oneK))
	})

	rfc9110_13_1_5.It("if-range-etag-match-206", spec.SHOULD, "sends 206 for a Range with a matching If-Range ETag", spec.Quote(`"If-Range = entity-tag / HTTP-date". "A recipient of an If-Range header field MUST ignore the Range header field if the If-Range condition evaluates to false. Otherwise, the recipient SHOULD process the Range header field as requested."`).SharedBecause("the 206 half of the same sentence"), func(t *spec.T) {
		etag := needETag(t, oneK.Path)
		t.Check(expectStatus(fetch(t, get(t, oneK.Path, "Range: bytes=0-9", "If-Range: "+etag)), 206))
	})

	rfc9110_13_1_5.It("if-range-etag-mismatch", spec.MUST, "sends the whole file when the If-Range ETag does not match", spec.Quote(`"If-Range = entity-tag / HTTP-date". "A recipient of an If-Range header field MUST ignore the Range header field if the If-Range condition evaluates to false. Otherwise, the recipient SHOULD process the Range header field as requested."`).SharedBecause("the mismatch half of the same sentence"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, oneK.Path, "Range: bytes=0-9", `If-Range: "stale"`)), oneK))
	})

	rfc9110_13_1_5.It("if-range-weak-etag", spec.MUST, "sends the whole file when If-Range holds a weak ETag", spec.Quote(`"A client MUST NOT generate an If-Range header field containing an entity tag that is marked as weak" and the server compares strongly: a weak tag never matches.`), func(t *spec.T) {
		etag := needETag(t, oneK.Path)
		t.Check(expectFile(fetch(t, get(t, oneK.Path, "Range: bytes=0-9", "If-Range: W/"+etag)), oneK))
	})

	rfc9110_13_1_5.It("if-range-date-old", spec.MUST, "sends the whole file when the If-Range date is not Last-Modified", spec.Inferred("If the HTTP-date validator provided exactly matches the Last-Modified field value for the selected representation, the condition is true.", "RFC 9110 13.1.5 states the If-Range evaluation without a key word; a false condition makes the server ignore the Range"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, oneK.Path, "Range: bytes=0-9", "If-Range: Sat, 01 Jan 2000 00:00:00 GMT")), oneK))
	})

	rfc9110_13_1_5.It("if-range-date-match", spec.MUST, "answers a Range with If-Range equal to Last-Modified as a range request", spec.Inferred("If the HTTP-date validator provided exactly matches the Last-Modified field value for the selected representation, the condition is true.", "RFC 9110 13.1.5 states the If-Range evaluation without a key word; a true condition makes the Range count").SharedBecause("the other half: a date that matches"), func(t *spec.T) {
		lm, _ := needLastModified(t, oneK.Path)
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=0-9", "If-Range: "+lm))
		if resp.Code == 206 {
			_, err := rangeParts(resp, oneK.Content)
			t.Check(err)
			return
		}
		t.Check(expectFile(resp, oneK))
	})
})

// httpDate formats t as an IMF-fixdate.
func httpDate(t time.Time) string { return t.UTC().Format(imfFixdate) }

// Layouts of the HTTP-date formats (RFC 9110 5.6.7).
const (
	imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"
	rfc850Date = "Monday, 02-Jan-06 15:04:05 GMT"
)
