package http1

import (
	"bytes"
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
)

// echo answers any method with the decoded request body and what the
// server understood of the request, so framing can be checked from outside.
func (s *Server) echo(req *Request) *response {
	r := newResponse(200, "application/octet-stream", req.Body)
	r.header.Add("X-Request-Method", req.Method)
	r.header.Add("X-Request-Target", req.Target)
	r.header.Add("X-Body-Length", strconv.Itoa(len(req.Body)))
	return r
}

// redirect answers 301 to the fixture's redirect location.
func (s *Server) redirect(*Request) *response {
	// RFC 9110 15.4.2: "The server SHOULD generate a Location header field
	// in the response containing a preferred URI reference for the new
	// permanent URI."
	r := newResponse(301, "text/plain; charset=utf-8", []byte("moved to "+fixture.RedirectLocation+"\n"))
	r.header.Add("Location", fixture.RedirectLocation)
	return r
}

// maxFormParts bounds the fields of one form.
const maxFormParts = 1000

// form answers a POSTed form with one "name=value\n" line per field, sorted.
func (s *Server) form(req *Request) *response {
	// RFC 9110 8.4: "An origin server MAY respond with a status code of
	// 415 (Unsupported Media Type) if a representation in the request
	// message has a content coding that is not acceptable." /form decodes
	// none; 15.5.16 has Accept-Encoding say which would be accepted.
	for _, c := range req.Header.List("Content-Encoding") {
		if !strings.EqualFold(c, "identity") {
			r := errorResponse(415, "content coding "+c+" not accepted")
			r.header.Add("Accept-Encoding", "identity")
			return r
		}
	}
	ct := req.Header.Get("Content-Type")
	if ct == "" && len(req.Body) == 0 {
		return newResponse(200, "text/plain; charset=utf-8", nil)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorResponse(415, "unparsable Content-Type")
	}
	var lines []string
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(req.Body))
		if err != nil {
			return errorResponse(400, "malformed urlencoded form")
		}
		for k, vs := range vals {
			for _, v := range vs {
				lines = append(lines, k+"="+v)
			}
		}
	case "multipart/form-data":
		if params["boundary"] == "" {
			return errorResponse(400, "multipart/form-data without boundary")
		}
		mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil || len(lines) >= maxFormParts {
				return errorResponse(400, "malformed multipart form")
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return errorResponse(400, "malformed multipart form")
			}
			if fn := part.FileName(); fn != "" {
				lines = append(lines, part.FormName()+"=@"+fn+":"+strconv.Itoa(len(data)))
			} else {
				lines = append(lines, part.FormName()+"="+string(data))
			}
		}
	default:
		// RFC 9110 15.5.16: "The 415 (Unsupported Media Type) status code
		// indicates that the origin server is refusing to service the
		// request because the content is in a format not supported by this
		// method on the target resource."
		r := errorResponse(415, "")
		r.header.Add("Accept-Post", "application/x-www-form-urlencoded, multipart/form-data")
		return r
	}
	sort.Slice(lines, func(i, j int) bool {
		ni, vi, _ := strings.Cut(lines[i], "=")
		nj, vj, _ := strings.Cut(lines[j], "=")
		if ni != nj {
			return ni < nj
		}
		return vi < vj
	})
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return newResponse(200, "text/plain; charset=utf-8", []byte(b.String()))
}

// maxSessions bounds the session table.
const maxSessions = 10000

// sessionTable is the server-side store of the /session endpoint. Every
// session lives SessionMaxAge from its creation, so creation order is
// expiry order: a queue (oldest at the front) makes eviction O(1).
type sessionTable struct {
	mu    sync.Mutex
	m     map[string]*list.Element // of *sessionEntry
	order list.List
}

type sessionEntry struct {
	sid     string
	visits  int
	expires time.Time
}

// visit counts a visit for sid and returns the count, or 0 if sid is
// unknown or expired.
func (t *sessionTable) visit(sid string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.m[sid]
	if !ok {
		return 0
	}
	e := el.Value.(*sessionEntry)
	if !now.Before(e.expires) {
		t.order.Remove(el)
		delete(t.m, sid)
		return 0
	}
	e.visits++
	return e.visits
}

// create stores a new session, dropping expired sessions and then, when
// the table is full, the oldest.
func (t *sessionTable) create(now time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	sid := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*list.Element{}
	}
	for el := t.order.Front(); el != nil; el = t.order.Front() {
		e := el.Value.(*sessionEntry)
		if now.Before(e.expires) && len(t.m) < maxSessions {
			break
		}
		t.order.Remove(el)
		delete(t.m, e.sid)
	}
	t.m[sid] = t.order.PushBack(&sessionEntry{sid: sid, visits: 1, expires: now.Add(fixture.SessionMaxAge * time.Second)})
	return sid, nil
}

// isSessionID reports whether v has the form of a session ID: 32 lowercase hex digits.
func isSessionID(v string) bool {
	if len(v) != 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// session is the cookie session endpoint: a new session gets a Set-Cookie,
// a known one a visit count.
func (s *Server) session(req *Request) *response {
	now := time.Now()
	for _, v := range req.Header.Values("Cookie") {
		for _, c := range ParseCookieHeader(v) {
			if c.Name != fixture.SessionCookie || !isSessionID(c.Value) {
				continue
			}
			if n := s.sessions.visit(c.Value, now); n > 0 {
				r := newResponse(200, "text/plain; charset=utf-8", []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, n)))
				r.header.Add("Cache-Control", "no-store")
				return r
			}
		}
	}
	sid, err := s.sessions.create(now)
	if err != nil {
		return errorResponse(500, "no randomness")
	}
	r := newResponse(200, "text/plain; charset=utf-8", []byte(fixture.SessionNewBody))
	r.header.Add("Set-Cookie", FormatSetCookie(&Cookie{
		Name: fixture.SessionCookie, Value: sid, Path: "/",
		MaxAge: fixture.SessionMaxAge, HttpOnly: true, SameSite: "Lax",
	}))
	r.header.Add("Cache-Control", "no-store")
	return r
}

// sensitiveFields are left out of a TRACE reflection.
var sensitiveFields = map[string]bool{"cookie": true, "authorization": true, "proxy-authorization": true}

// trace reflects the request head as message/http.
func (s *Server) trace(req *Request) *response {
	var b strings.Builder
	b.WriteString(req.Method + " " + req.Target + " " + req.Proto + "\r\n")
	for _, f := range req.Header {
		// RFC 9110 9.3.8: "A client MUST NOT send fields containing
		// sensitive data in a TRACE request"; the final recipient "SHOULD
		// exclude any request fields that are likely to contain sensitive
		// data when that recipient generates the response content."
		if sensitiveFields[strings.ToLower(f.Name)] {
			continue
		}
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	b.WriteString("\r\n")
	return newResponse(200, "message/http", []byte(b.String()))
}

// uploadFile resolves a file name in the upload directory, refusing
// symlinks and anything that is not a plain name.
func (s *Server) uploadFile(name string) (string, *response) {
	if s.Root == "" || name == "." || name == ".." {
		return "", errorResponse(404, "")
	}
	root, _, err := s.docRoot()
	if err != nil {
		return "", errorResponse(404, "")
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(root, strings.Trim(UploadPath, "/")))
	if err != nil {
		return "", errorResponse(404, "no upload area")
	}
	if !strings.HasPrefix(dir, root+string(filepath.Separator)) {
		return "", errorResponse(403, "outside the document root")
	}
	p := filepath.Join(dir, name)
	if filepath.Dir(p) != dir {
		return "", errorResponse(400, "bad file name")
	}
	if st, err := os.Lstat(p); err == nil && !st.Mode().IsRegular() {
		return "", errorResponse(403, "not a regular file")
	}
	return p, nil
}

// current returns the validators of an upload file, or exists=false.
func currentFile(p string) (exists bool, etag string, mod time.Time) {
	st, err := os.Stat(p)
	if err != nil {
		return false, "", time.Time{}
	}
	mod = st.ModTime().UTC().Truncate(time.Second)
	return true, ETagFor(st.Size(), mod), mod
}

// Upload area defaults.
const (
	// DefaultMaxUploadBytes bounds the total size of the files under /upload/.
	DefaultMaxUploadBytes = 64 << 20
	// DefaultMaxUploadFiles bounds the number of files under /upload/.
	DefaultMaxUploadFiles = 100
	// maxUploadName bounds an upload file name (NAME_MAX on most systems).
	maxUploadName = 255
	// tempPrefix starts the names of files being written.
	tempPrefix = ".put-"
)

func (s *Server) maxUploadBytes() int64 {
	if s.MaxUploadBytes <= 0 {
		return DefaultMaxUploadBytes
	}
	return s.MaxUploadBytes
}

func (s *Server) maxUploadFiles() int {
	if s.MaxUploadFiles <= 0 {
		return DefaultMaxUploadFiles
	}
	return s.MaxUploadFiles
}

// uploadUsage returns the total size and number of the files in dir,
// files being written left out (they are counted by reservation).
func uploadUsage(dir string) (int64, int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	var size int64
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		if st, err := e.Info(); err == nil {
			size += st.Size()
			n++
		}
	}
	return size, n
}

// uploadQuota is the room reserved by PUTs in progress.
type uploadQuota struct {
	bytes int64
	files int
}

// insufficientStorage answers a PUT over the upload quota. RFC 4918
// 11.5: "The 507 (Insufficient Storage) status code means the method
// could not be performed on the resource because the server is unable to
// store the representation needed to successfully complete the request."
func insufficientStorage(reason string) *response { return errorResponse(507, reason) }

// quotaWriter writes to f, reserving room in the upload quota as the
// content of unknown length grows.
type quotaWriter struct {
	s     *Server
	f     *os.File
	base  int64 // bytes in the area apart from this upload
	held  *int64
	wrote int64
}

var errQuota = errors.New("http1: upload quota exceeded")

func (w *quotaWriter) Write(p []byte) (int, error) {
	need := w.wrote + int64(len(p)) - *w.held
	if need > 0 {
		w.s.uploadMu.Lock()
		used, _ := uploadUsage(filepath.Dir(w.f.Name()))
		ok := used-w.base+w.s.uploads.bytes+need <= w.s.maxUploadBytes()
		if ok {
			w.s.uploads.bytes += need
			*w.held += need
		}
		w.s.uploadMu.Unlock()
		if !ok {
			return 0, errQuota
		}
	}
	n, err := w.f.Write(p)
	w.wrote += int64(n)
	return n, err
}

// putFrom stores the request content, read from body, under /upload/. It
// goes to a temporary file in the upload directory, is synced, gets the
// mode of the file it replaces (0644 for a new one) and is renamed into
// place: a 201 or 204 means the content is on disk. The area is bounded
// in total size and number of files (MaxUploadBytes, MaxUploadFiles).
func (s *Server) putFrom(req *Request, name string, body io.Reader) *response {
	if len(name) > maxUploadName {
		// RFC 9110 15.5.15: "The 414 (URI Too Long) status code indicates
		// that the server is refusing to service the request because the
		// target URI is longer than the server is willing to interpret."
		return errorResponse(414, "file name too long")
	}
	p, pre := s.uploadFile(name)
	if pre != nil {
		return pre
	}
	dir := filepath.Dir(p)
	s.uploadMu.Lock()
	exists, etag, mod := currentFile(p)
	if code := evalPreconditions(req, exists, etag, mod); code != 0 {
		s.uploadMu.Unlock()
		return errorResponse(412, "")
	}
	mode := os.FileMode(0o644)
	var oldSize int64
	if st, err := os.Stat(p); err == nil {
		mode, oldSize = st.Mode().Perm(), st.Size()
	}
	used, count := uploadUsage(dir)
	if !exists && count+s.uploads.files >= s.maxUploadFiles() {
		s.uploadMu.Unlock()
		return insufficientStorage("too many files in " + UploadPath)
	}
	want := max(req.ContentLength, 0)
	if used-oldSize+s.uploads.bytes+want > s.maxUploadBytes() {
		s.uploadMu.Unlock()
		return insufficientStorage(UploadPath + " is full")
	}
	held := want
	s.uploads.bytes += held
	s.uploads.files++
	s.uploadMu.Unlock()
	defer func() {
		s.uploadMu.Lock()
		s.uploads.bytes -= held
		s.uploads.files--
		s.uploadMu.Unlock()
	}()

	tmp, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return errorResponse(500, "cannot store")
	}
	defer os.Remove(tmp.Name())
	w := &quotaWriter{s: s, f: tmp, base: oldSize, held: &held}
	limit := s.limits().MaxBodyBytes
	n, err := io.Copy(w, io.LimitReader(body, limit+1))
	if err == nil && n > limit {
		err = statusErr(413, ErrBodyTooLarge, "chunked body over the limit")
	}
	if err != nil {
		tmp.Close()
		var se *StatusError
		var ne interface{ Timeout() bool }
		switch {
		case errors.Is(err, errQuota):
			return insufficientStorage(UploadPath + " is full")
		case errors.As(err, &se):
			return errorResponse(se.Code, se.Reason)
		case errors.As(err, &ne) && ne.Timeout():
			return errorResponse(408, "request not received in time")
		}
		return errorResponse(400, "incomplete content")
	}
	if tmp.Chmod(mode) != nil || tmp.Sync() != nil || tmp.Close() != nil {
		tmp.Close()
		return errorResponse(500, "cannot store")
	}
	s.uploadMu.Lock()
	defer s.uploadMu.Unlock()
	// The preconditions are checked again: another request may have
	// changed the file while this one's content arrived.
	exists, etag, mod = currentFile(p)
	if code := evalPreconditions(req, exists, etag, mod); code != 0 {
		return errorResponse(412, "")
	}
	if os.Rename(tmp.Name(), p) != nil {
		return errorResponse(500, "cannot store")
	}
	s.files.clear()
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	if exists {
		// RFC 9110 9.3.4: "If the target resource does have a current
		// representation and that representation is successfully modified
		// in accordance with the state of the enclosed representation, then
		// the origin server MUST send either a 200 (OK) or a 204 (No
		// Content) response".
		return newResponse(204, "", nil)
	}
	// RFC 9110 9.3.4: "If the target resource does not have a current
	// representation and the PUT successfully creates one, then the origin
	// server MUST inform the user agent by sending a 201 (Created) response."
	r := newResponse(201, "text/plain; charset=utf-8", []byte("created\n"))
	r.header.Add("Location", UploadPath+name)
	return r
}

// delete removes a file under /upload/.
func (s *Server) delete(req *Request, name string) *response {
	p, pre := s.uploadFile(name)
	if pre != nil {
		return pre
	}
	s.uploadMu.Lock()
	defer s.uploadMu.Unlock()
	exists, etag, mod := currentFile(p)
	if code := evalPreconditions(req, exists, etag, mod); code != 0 {
		return errorResponse(412, "")
	}
	if !exists {
		return errorResponse(404, "")
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return errorResponse(500, "cannot delete")
	}
	s.files.clear()
	// RFC 9110 9.3.5: "If a DELETE method is successfully applied, the
	// origin server SHOULD send ... a 204 (No Content) status code if the
	// action has been enacted and no further information is to be supplied".
	return newResponse(204, "", nil)
}
