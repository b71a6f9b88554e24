package http1

import (
	"bytes"
	"strings"

	fixture "github.com/protospec/protospec/internal/http1"
)

// The dynamic endpoints and the upload area of the fixture.
const (
	RedirectPath = fixture.RedirectPath
	FormPath     = fixture.FormPath
	SessionPath  = fixture.SessionPath
	EchoPath     = fixture.EchoPath
	UploadPath   = fixture.UploadDir
)

// handler produces the response to a request whose body has been read.
type handler func(*Request) *response

// knownMethods are the methods RFC 9110 section 9 defines.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true,
}

// allow lists for the kinds of resource.
const (
	allowStatic   = "GET, HEAD, OPTIONS"
	allowUpload   = "GET, HEAD, PUT, DELETE, OPTIONS"
	allowForm     = "POST, OPTIONS"
	allowServer   = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
	allowTraceAdd = ", TRACE"
)

func (s *Server) allow(list string) string {
	if s.EnableTrace {
		return list + allowTraceAdd
	}
	return list
}

// methodNotAllowed is a 405 with the Allow field RFC 9110 15.5.6 requires:
// "The origin server MUST generate an Allow header field in a 405 response
// containing a list of the target resource's currently supported methods."
func (s *Server) methodNotAllowed(list string) *response {
	r := errorResponse(405, "")
	r.header.Add("Allow", s.allow(list))
	return r
}

// options answers OPTIONS for a resource: 200 with Allow and no content.
func (s *Server) options(list string) handler {
	return func(*Request) *response {
		r := newResponse(200, "", nil)
		r.header.Add("Allow", s.allow(list))
		return r
	}
}

// route decides how to answer req before its body is read. It returns a
// handler to run after the body is read, or a final response (pre) that
// does not need the body.
func (s *Server) route(req *Request) (h handler, pre *response) {
	if req.Form == AuthorityForm {
		// RFC 9110 9.3.6: CONNECT asks the recipient to establish a tunnel;
		// this origin server does not tunnel. RFC 9110 15.6.2: "501 (Not
		// Implemented) ... is the appropriate response when the server does
		// not recognize the request method and is not capable of supporting
		// it for any resource."
		return nil, errorResponse(501, "CONNECT is not supported by an origin server")
	}
	if req.Form == AsteriskForm {
		// RFC 9110 9.3.7: "An OPTIONS request with an asterisk ("*") as the
		// request target applies to the server in general rather than to a
		// specific resource."
		return s.options(allowServer), nil
	}
	p, err := cleanPath(req.Path)
	if err != nil {
		return nil, errorResponse(400, err.Error())
	}
	if req.Method == "TRACE" {
		if s.EnableTrace {
			return s.trace, nil
		}
		// TRACE is disabled by default: it reflects request fields back.
		return nil, s.methodNotAllowed(allowStatic)
	}
	if p == EchoPath {
		return s.echo, nil
	}
	if !knownMethods[req.Method] {
		// RFC 9110 9.1: "An origin server that receives a request method
		// that is unrecognized or not implemented SHOULD respond with the
		// 501 (Not Implemented) status code."
		return nil, errorResponse(501, "method "+req.Method+" not implemented")
	}
	var list string
	switch p {
	case RedirectPath:
		list = allowStatic
		if req.Method == "GET" || req.Method == "HEAD" {
			return s.redirect, nil
		}
	case FormPath:
		list = allowForm
		if req.Method == "POST" {
			return s.form, nil
		}
	case SessionPath:
		list = allowStatic
		if req.Method == "GET" || req.Method == "HEAD" {
			return s.session, nil
		}
	default:
		return s.routeFile(req, p)
	}
	if req.Method == "OPTIONS" {
		return s.options(list), nil
	}
	return nil, s.methodNotAllowed(list)
}

// routeFile routes static files and the /upload/ area.
func (s *Server) routeFile(req *Request, p string) (handler, *response) {
	if name, ok := uploadName(p); ok {
		switch req.Method {
		case "GET", "HEAD":
			return s.fileHandler(req, p)
		case "OPTIONS":
			return s.options(allowUpload), nil
		case "PUT":
			if req.Header.Has("Content-Range") {
				// RFC 9110 9.3.4: "An origin server that allows PUT on a
				// given target resource MUST send a 400 (Bad Request)
				// response to a PUT request that contains a Content-Range
				// header field".
				return nil, errorResponse(400, "Content-Range in PUT")
			}
			if !req.Chunked && req.ContentLength < 0 {
				// RFC 9110 15.5.12: "The 411 (Length Required) status code
				// indicates that the server refuses to accept the request
				// without a defined Content-Length."
				return nil, errorResponse(411, "PUT needs Content-Length or chunked")
			}
			// serveRequest streams the content to putFrom; this handler
			// serves a request whose content is already in Body.
			return func(r *Request) *response { return s.putFrom(r, name, bytes.NewReader(r.Body)) }, nil
		case "DELETE":
			return func(r *Request) *response { return s.delete(r, name) }, nil
		}
		return nil, s.methodNotAllowed(allowUpload)
	}
	switch req.Method {
	case "GET", "HEAD":
		return s.fileHandler(req, p)
	case "PUT", "DELETE":
		return nil, s.methodNotAllowed(allowStatic)
	}
	if _, pre := s.open(req, p); pre != nil {
		return nil, pre
	}
	if req.Method == "OPTIONS" {
		return s.options(allowStatic), nil
	}
	return nil, s.methodNotAllowed(allowStatic)
}

// uploadName returns the file name of a path directly under /upload/.
func uploadName(p string) (string, bool) {
	if !strings.HasPrefix(p, UploadPath) {
		return "", false
	}
	name := p[len(UploadPath):]
	if name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// cleanPath decodes the percent-encoding of a raw path once and removes
// dot segments (RFC 3986 5.2.4). It refuses encoded "/", "\" and control
// octets, which would change the path structure after decoding, and any
// ".." that would climb above the root.
func cleanPath(raw string) (string, error) {
	if raw == "" || raw[0] != '/' {
		return "", ErrBadPath
	}
	segs := strings.Split(raw[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, seg := range segs {
		d, err := pctDecodeSegment(seg)
		if err != nil {
			return "", err
		}
		last := i == len(segs)-1
		switch d {
		case ".":
			trailing = last
		case "..":
			if len(out) == 0 {
				return "", ErrBadPath
			}
			out = out[:len(out)-1]
			trailing = last
		case "":
			trailing = last
		default:
			out = append(out, d)
			trailing = false
		}
	}
	p := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		p += "/"
	}
	return p, nil
}

func pctDecodeSegment(s string) (string, error) {
	if !strings.Contains(s, "%") {
		if strings.ContainsAny(s, "\\\x00") {
			return "", ErrBadPath
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return "", ErrBadPath
			}
			c = byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			if c == '/' || c == '\\' || c < 0x20 || c == 0x7f {
				return "", ErrBadPath
			}
		} else if c == '\\' {
			return "", ErrBadPath
		}
		b = append(b, c)
	}
	return string(b), nil
}
