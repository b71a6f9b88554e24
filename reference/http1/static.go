package http1

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// contentTypes maps file extensions to media types.
var contentTypes = map[string]string{
	".html": "text/html", ".htm": "text/html", ".txt": "text/plain",
	".css": "text/css", ".js": "text/javascript", ".json": "application/json",
	".xml": "application/xml", ".png": "image/png", ".jpg": "image/jpeg",
	".gif": "image/gif", ".svg": "image/svg+xml", ".bin": "application/octet-stream",
}

// ContentTypeOf returns the media type served for a file name.
func ContentTypeOf(name string) string {
	if ct, ok := contentTypes[strings.ToLower(filepath.Ext(name))]; ok {
		return ct
	}
	return "application/octet-stream"
}

// staticFile is a resolved regular file under Root, open: the bytes
// served are those of the file that was checked, even if the path is
// changed (to a symlink leading out, say) in between.
type staticFile struct {
	fh      fileHandle
	fsPath  string
	size    int64
	modTime time.Time
	etag    string
	ctype   string
	// listing, if set, is the URL path of a directory without an index
	// file (fsPath), answered with a list of its entries (DirIndex).
	listing string
}

// contentTypeOf is ContentTypeOf with the server's Charset on text types,
// from a table made once.
func (s *Server) contentTypeOf(name string) string {
	s.typesOnce.Do(func() {
		s.types = make(map[string]string, len(contentTypes))
		for ext, ct := range contentTypes {
			if s.Charset != "" && strings.HasPrefix(ct, "text/") {
				ct += "; charset=" + s.Charset
			}
			s.types[ext] = ct
		}
	})
	if ct, ok := s.types[strings.ToLower(filepath.Ext(name))]; ok {
		return ct
	}
	return "application/octet-stream"
}

// maxListing bounds the entries of a directory listing.
const maxListing = 1000

// serveListing answers GET or HEAD for a directory without an index file
// with an HTML list of its entries (dot files left out), sorted, at most
// maxListing of them.
func (s *Server) serveListing(f *staticFile) *response {
	d, err := os.Open(f.fsPath)
	if err != nil {
		return errorResponse(404, "")
	}
	entries, err := d.ReadDir(maxListing)
	d.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return errorResponse(404, "")
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	title := html.EscapeString("Index of " + f.listing)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + title + "</title>\n</head>\n<body>\n<h1>" + title + "</h1>\n<ul>\n")
	if f.listing != "/" {
		b.WriteString("<li><a href=\"../\">../</a></li>\n")
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		// "./" keeps a name with a colon from reading as a scheme.
		b.WriteString("<li><a href=\"./" + html.EscapeString(escapePath(name)) + "\">" + html.EscapeString(name) + "</a></li>\n")
	}
	if len(entries) == maxListing {
		b.WriteString("<li>(the first " + strconv.Itoa(maxListing) + " entries only)</li>\n")
	}
	b.WriteString("</ul>\n</body>\n</html>\n")
	return newResponse(200, "text/html; charset=utf-8", []byte(b.String()))
}

// ETagFor returns the strong entity tag the server sends for a file of the
// given size and modification time: "<size hex>-<mtime unix seconds hex>".
func ETagFor(size int64, mod time.Time) string {
	return fmt.Sprintf(`"%x-%x"`, size, mod.Unix())
}

// fileHandle is an open file being served.
type fileHandle interface {
	io.ReaderAt
	io.Closer
	Stat() (os.FileInfo, error)
}

// open resolves the cleaned URL path p to a file under Root, following
// directory indexes, and opens it until req is done. It returns a final
// response for 301/403/404.
func (s *Server) open(req *Request, p string) (*staticFile, *response) {
	if s.Root == "" {
		return nil, errorResponse(404, "")
	}
	root, dir, err := s.docRoot()
	if err != nil {
		return nil, errorResponse(404, "")
	}
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	real, fh, st, status, done := s.resolveCached(root, dir, rel)
	if status != 0 {
		return nil, errorResponse(status, reasonFor(status))
	}
	index := st.IsDir()
	if index {
		done()
		if !strings.HasSuffix(p, "/") {
			loc := escapePath(p) + "/"
			if req.RawQuery != "" {
				loc += "?" + req.RawQuery
			}
			r := newResponse(301, "text/plain; charset=utf-8", []byte("moved to "+loc+"\n"))
			r.header.Add("Location", loc)
			return nil, r
		}
		dirPath := real
		if real, fh, st, status, done = s.resolveCached(root, dir, path.Join(rel, "index.html")); status != 0 {
			if status == 404 && s.DirIndex {
				return &staticFile{fsPath: dirPath, listing: p}, nil
			}
			return nil, errorResponse(status, reasonFor(status))
		}
	}
	if !st.Mode().IsRegular() || (!index && strings.HasSuffix(p, "/")) {
		done()
		return nil, errorResponse(404, "")
	}
	req.onDone(done)
	mod := st.ModTime().UTC().Truncate(time.Second)
	return &staticFile{
		fh:      fh,
		fsPath:  real,
		size:    st.Size(),
		modTime: mod,
		etag:    ETagFor(st.Size(), mod),
		ctype:   s.contentTypeOf(real),
	}, nil
}

func reasonFor(status int) string {
	if status == 403 {
		return "outside the document root"
	}
	return ""
}

// docRoot returns the absolute, symlink-free document root and an open
// handle on it, resolved once.
func (s *Server) docRoot() (string, *os.File, error) {
	s.rootOnce.Do(func() {
		root, err := filepath.Abs(s.Root)
		if err == nil {
			root, err = filepath.EvalSymlinks(root)
		}
		if err != nil {
			s.rootErr = err
			return
		}
		s.rootPath = root
		s.rootDir, s.rootErr = os.Open(root)
	})
	return s.rootPath, s.rootDir, s.rootErr
}

// resolveBeneath finds rel under the root, opens it and stats it; the
// caller closes the handle when the status is 0. It returns status 404
// when there is no such file and 403 when rel, through ".." or a symlink,
// leads outside the root: never serve outside Root. On Linux one openat2
// with RESOLVE_BENEATH checks every component in the kernel, where walking
// the path with lstat per component cost a third of the server's time;
// elsewhere the path is resolved in user space.
func resolveBeneath(root string, dir *os.File, rel string) (string, fileHandle, os.FileInfo, int) {
	if rel == "" {
		rel = "."
	}
	real := filepath.Join(root, filepath.FromSlash(rel))
	if dir != nil {
		f, err := openBeneath(dir, rel)
		switch {
		case err == nil:
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return "", nil, nil, 404
			}
			return real, f, st, 0
		case !errors.Is(err, errEscapes) && !errors.Is(err, errUnsupported):
			return "", nil, nil, 404
		}
		// The kernel refuses every absolute symlink, even one that points
		// back inside the root: let the walk below decide those.
	}
	resolved, err := filepath.EvalSymlinks(real)
	if err != nil {
		return "", nil, nil, 404
	}
	if resolved != root && !strings.HasPrefix(resolved, root+string(filepath.Separator)) {
		return "", nil, nil, 403
	}
	f, err := openNonBlocking(resolved)
	if err != nil {
		return "", nil, nil, 404
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return "", nil, nil, 404
	}
	return resolved, f, st, 0
}

// escapePath percent-encodes a decoded path for a Location field: every
// octet outside pchar and "/" (RFC 3986 3.3).
func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if uriChar[c] && c != '%' && c != '?' && c != '[' && c != ']' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// fileHandler resolves p before the body is read (so 301/403/404 need
// not wait for it) and returns the handler that serves it.
func (s *Server) fileHandler(req *Request, p string) (handler, *response) {
	f, pre := s.open(req, p)
	if pre != nil {
		return nil, pre
	}
	if f.listing != "" {
		return func(*Request) *response { return s.serveListing(f) }, nil
	}
	return func(r *Request) *response { return s.serveFile(r, f) }, nil
}

// validatorHeader returns the validator fields of f.
func (f *staticFile) validatorHeader() Header {
	return Header{{"ETag", f.etag}, {"Last-Modified", FormatHTTPDate(f.modTime)}}
}

// serveFile answers GET or HEAD for a regular file, with conditional
// requests (RFC 9110 13) and range requests (RFC 9110 14).
func (s *Server) serveFile(req *Request, f *staticFile) *response {
	switch evalPreconditions(req, true, f.etag, f.modTime) {
	case 304:
		// RFC 9110 15.4.5: "The server generating a 304 response MUST
		// generate any of the following header fields that would have been
		// sent in a 200 (OK) response to the same request: Content-Location,
		// Date, ETag, and Vary".
		r := newResponse(304, "", nil)
		r.header = f.validatorHeader()
		return r
	case 412:
		return errorResponse(412, "")
	}
	base := func(code int, ctype string) *response {
		r := newResponse(code, ctype, nil)
		r.header = append(r.header, f.validatorHeader()...)
		// RFC 9110 14.3: "A server that supports range requests MAY send
		// Accept-Ranges: bytes".
		r.header.Add("Accept-Ranges", "bytes")
		return r
	}
	ranges, status := s.rangesFor(req, f)
	switch status {
	case 416:
		// RFC 9110 15.5.17: "When this status code is generated in response
		// to a byte-range request, the sender SHOULD generate a
		// Content-Range header field specifying the current length of the
		// selected representation".
		r := errorResponse(416, "")
		r.header.Add("Content-Range", "bytes */"+strconv.FormatInt(f.size, 10))
		r.header = append(r.header, f.validatorHeader()...)
		return r
	case 206:
		if len(ranges) == 1 {
			r := base(206, f.ctype)
			rg := ranges[0]
			r.header.Add("Content-Range", rg.contentRange(f.size))
			r.bodyLen = rg.length()
			r.writeBody = copyFile(f.fh, []byteRange{rg}, nil)
			return r
		}
		// RFC 9110 14.6: multiple parts in a multipart/byteranges body,
		// each with its own Content-Type and Content-Range.
		boundary := newBoundary()
		r := base(206, "multipart/byteranges; boundary="+boundary)
		heads := make([][]byte, len(ranges))
		var n int64
		for i, rg := range ranges {
			var h string
			if i > 0 {
				h = "\r\n"
			}
			h += "--" + boundary + "\r\nContent-Type: " + f.ctype + "\r\nContent-Range: " + rg.contentRange(f.size) + "\r\n\r\n"
			heads[i] = []byte(h)
			n += int64(len(h)) + rg.length()
		}
		tail := []byte("\r\n--" + boundary + "--\r\n")
		heads = append(heads, tail)
		r.bodyLen = n + int64(len(tail))
		r.writeBody = copyFile(f.fh, ranges, heads)
		return r
	}
	r := base(200, f.ctype)
	r.bodyLen = f.size
	r.writeBody = copyFile(f.fh, []byteRange{{0, f.size - 1}}, nil)
	if f.size == 0 {
		r.writeBody = nil
	}
	return r
}

// copyFile writes the ranges of the open file, each preceded by heads[i],
// and heads[len(ranges)] last (when heads is not nil).
func copyFile(fh io.ReaderAt, ranges []byteRange, heads [][]byte) func(io.Writer) error {
	return func(w io.Writer) error {
		var err error
		for i, rg := range ranges {
			if heads != nil {
				if _, err := w.Write(heads[i]); err != nil {
					return err
				}
			}
			n, err := io.Copy(w, io.NewSectionReader(fh, rg.first, rg.length()))
			if err != nil {
				return err
			}
			if n != rg.length() {
				// The file shrank since it was stat'ed: the framing sent
				// cannot be kept, so the connection must end.
				return io.ErrUnexpectedEOF
			}
		}
		if heads != nil {
			_, err = w.Write(heads[len(ranges)])
		}
		return err
	}
}

func newBoundary() string {
	var b [12]byte
	rand.Read(b[:])
	return "protospec-" + hex.EncodeToString(b[:])
}

// entityTag is a parsed entity-tag (RFC 9110 8.8.3).
type entityTag struct {
	weak   bool
	opaque string
}

func parseETag(s string) (entityTag, bool) {
	var t entityTag
	if strings.HasPrefix(s, "W/") {
		t.weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return t, false
	}
	t.opaque = s[1 : len(s)-1]
	for i := 0; i < len(t.opaque); i++ {
		// etagc = %x21 / %x23-7E / obs-text
		if c := t.opaque[i]; c < 0x21 || c == '"' || c == 0x7f {
			return t, false
		}
	}
	return t, true
}

// matchETags evaluates an If-Match or If-None-Match value against the
// current tag: "*" matches any current representation. RFC 9110 8.8.3.2:
// strong comparison needs both tags strong; weak comparison ignores W/.
func matchETags(value string, exists bool, current string, strong bool) bool {
	if trimOWS(value) == "*" {
		return exists
	}
	if !exists {
		return false
	}
	cur, ok := parseETag(current)
	if !ok {
		return false
	}
	for _, m := range appendList(nil, value) {
		t, ok := parseETag(m)
		if !ok || t.opaque != cur.opaque {
			continue
		}
		if !strong || (!t.weak && !cur.weak) {
			return true
		}
	}
	return false
}

// evalPreconditions applies RFC 9110 13.2.2 and returns 0 (go on), 304 or
// 412. exists reports whether the target has a current representation.
func evalPreconditions(req *Request, exists bool, etag string, mod time.Time) int {
	h := req.Header
	safe := req.Method == "GET" || req.Method == "HEAD"
	if h.Has("If-Match") {
		// RFC 9110 13.2.2 step 1: "When recipient is the origin server and
		// If-Match is present, evaluate the If-Match precondition ... if
		// false, respond 412 (Precondition Failed)". 13.1.1: "An origin
		// server MUST use the strong comparison function when comparing
		// entity tags for If-Match".
		if !matchETags(strings.Join(h.Values("If-Match"), ","), exists, etag, true) {
			return 412
		}
	} else if v := h.Values("If-Unmodified-Since"); len(v) == 1 && exists {
		// Step 2. RFC 9110 13.1.4: "A recipient MUST ignore the
		// If-Unmodified-Since header field if the received field value is
		// not a valid HTTP-date".
		if t, ok := ParseHTTPDate(v[0]); ok && mod.After(t) {
			return 412
		}
	}
	if h.Has("If-None-Match") {
		// Step 3: "if false for GET/HEAD, respond 304 (Not Modified); if
		// false for other methods, respond 412". 13.1.2: "A recipient MUST
		// use the weak comparison function when comparing entity tags for
		// If-None-Match".
		if matchETags(strings.Join(h.Values("If-None-Match"), ","), exists, etag, false) {
			if safe {
				return 304
			}
			return 412
		}
	} else if v := h.Values("If-Modified-Since"); safe && len(v) == 1 && exists {
		// Step 4. RFC 9110 13.1.3: "A recipient MUST ignore the
		// If-Modified-Since header field if the received field value is not
		// a valid HTTP-date, the field value has more than one member, or
		// if the request method is neither GET nor HEAD." and "A date
		// which is later than the server's current time is invalid."
		if t, ok := ParseHTTPDate(v[0]); ok && !t.After(time.Now()) && !mod.After(t) {
			return 304
		}
	}
	return 0
}

// byteRange is an inclusive range of byte offsets.
type byteRange struct{ first, last int64 }

func (r byteRange) length() int64 { return r.last - r.first + 1 }

func (r byteRange) contentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.first, r.last, size)
}

// maxRanges bounds the ranges of one request; more are ignored (200).
const maxRanges = 64

// rangesFor evaluates Range and If-Range for a GET. It returns status 206
// with the satisfiable ranges, 416, or 200 to send the whole file.
func (s *Server) rangesFor(req *Request, f *staticFile) ([]byteRange, int) {
	// RFC 9110 14.2: "A server MUST ignore a Range header field received
	// with a request method that is unrecognized or for which range
	// handling is not defined. For this specification, GET is the only
	// method for which range handling is defined."
	vals := req.Header.Values("Range")
	if req.Method != "GET" || len(vals) != 1 {
		return nil, 200
	}
	if ir := req.Header.Values("If-Range"); len(ir) > 0 {
		// RFC 9110 13.1.5: "If the validator does not match, the server
		// MUST ignore the Range header field." An entity tag is compared
		// strongly; a date must equal Last-Modified exactly.
		v := trimOWS(ir[0])
		matched := false
		if len(ir) == 1 {
			if t, ok := parseETag(v); ok {
				matched = !t.weak && t.opaque == strings.Trim(f.etag, `"`)
			} else if d, ok := ParseHTTPDate(v); ok {
				matched = d.Equal(f.modTime)
			}
		}
		if !matched {
			return nil, 200
		}
	}
	ranges, ok := parseRange(vals[0], f.size)
	if !ok {
		// RFC 9110 14.2: "An origin server MUST ignore a Range header field
		// that contains a range unit it does not understand." Invalid
		// syntax is ignored the same way.
		return nil, 200
	}
	if len(ranges) == 0 {
		return nil, 416
	}
	return ranges, 206
}

// parseRange parses ranges-specifier = range-unit "=" range-set for the
// "bytes" unit and returns the satisfiable ranges clipped to size.
// ok is false for syntax errors, other units and too many ranges.
func parseRange(v string, size int64) ([]byteRange, bool) {
	v = trimOWS(v)
	eq := strings.IndexByte(v, '=')
	if eq < 0 || !strings.EqualFold(v[:eq], "bytes") {
		return nil, false
	}
	specs := appendList(nil, v[eq+1:])
	if len(specs) == 0 || len(specs) > maxRanges {
		return nil, false
	}
	var out []byteRange
	var total int64
	for _, sp := range specs {
		dash := strings.IndexByte(sp, '-')
		if dash < 0 {
			return nil, false
		}
		a, b := sp[:dash], sp[dash+1:]
		if a == "" {
			// suffix-range = "-" suffix-length
			n, ok := parseContentLength(b)
			if !ok {
				return nil, false
			}
			// RFC 9110 14.1.1: a suffix-range is satisfiable if the
			// suffix-length is non-zero and the representation is not empty.
			if n > 0 && size > 0 {
				out = append(out, byteRange{max(0, size-n), size - 1})
			}
			continue
		}
		first, ok := parseContentLength(a)
		if !ok {
			return nil, false
		}
		last := size - 1
		if b != "" {
			l, ok := parseContentLength(b)
			// RFC 9110 14.1.1: "A range request is invalid if the last-pos
			// value is present and less than the first-pos."
			if !ok || l < first {
				return nil, false
			}
			last = min(l, size-1)
		}
		// RFC 9110 14.1.1: an int-range is satisfiable "if the first-pos is
		// less than the current length of the selected representation".
		if first < size {
			out = append(out, byteRange{first, last})
		}
	}
	for _, r := range out {
		total += r.length()
	}
	if len(out) > 1 && total > size {
		// RFC 9110 14.2: "A server that supports range requests MAY ignore
		// or reject a Range header field that contains ... more than two
		// overlapping ranges". Ranges adding up to more than the whole
		// representation overlap; they are ignored and the whole is sent.
		return nil, false
	}
	return out, true
}

// Errors of openBeneath.
var (
	errEscapes     = errors.New("http1: path leaves the document root")
	errUnsupported = errors.New("http1: no kernel support for resolving beneath a directory")
)
