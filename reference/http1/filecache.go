package http1

import (
	"os"
	"sync"
	"time"
)

// The open-file cache keeps the regular files the server opened lately,
// open and stat'ed, so that a file asked for again within FileCacheValid
// costs no system call before it is read (openat2, fstat and close were
// half the work of serving a small file). It is what nginx's
// open_file_cache does, with a shorter default validity: a file changed
// behind the server's back is seen after at most FileCacheValid, a file
// the server itself replaces or removes (PUT and DELETE under /upload/)
// at once, as every write empties the cache. Entries are shared by the
// requests reading them and closed when the last one is done.
const (
	// DefaultFileCacheValid is how long a cached file is served without
	// looking at the file system again.
	DefaultFileCacheValid = time.Second
	// fileCacheEntries bounds the descriptors the cache holds.
	fileCacheEntries = 256
)

type cachedFile struct {
	real    string
	fh      fileHandle
	st      os.FileInfo
	expires time.Time
	refs    int  // requests reading it, plus one while in the cache
	dropped bool // out of the cache: closed when refs reaches 0
}

type fileCache struct {
	mu      sync.Mutex
	entries map[string]*cachedFile
}

// get returns the cached file for rel, held for the caller until release,
// or nil when there is none still valid.
func (c *fileCache) get(rel string, now time.Time) *cachedFile {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[rel]
	if e == nil {
		return nil
	}
	if now.After(e.expires) {
		c.dropLocked(rel, e)
		return nil
	}
	e.refs++
	return e
}

// put caches a file the caller opened and holds it for the caller until
// release; it returns the entry (or one without a cache slot, when the
// cache is full of files still valid).
func (c *fileCache) put(rel, real string, fh fileHandle, st os.FileInfo, expires time.Time) *cachedFile {
	e := &cachedFile{real: real, fh: fh, st: st, expires: expires, refs: 1}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]*cachedFile)
	}
	if old := c.entries[rel]; old != nil {
		c.dropLocked(rel, old)
	}
	if len(c.entries) >= fileCacheEntries {
		for k, v := range c.entries {
			if time.Now().After(v.expires) {
				c.dropLocked(k, v)
			}
		}
	}
	if len(c.entries) >= fileCacheEntries {
		e.dropped = true
		return e
	}
	e.refs++
	c.entries[rel] = e
	return e
}

// release ends the caller's hold on e.
func (c *fileCache) release(e *cachedFile) {
	c.mu.Lock()
	e.refs--
	closeIt := e.dropped && e.refs == 0
	c.mu.Unlock()
	if closeIt {
		e.fh.Close()
	}
}

// clear empties the cache; the files still being read are closed when
// their requests are done.
func (c *fileCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.entries {
		c.dropLocked(k, v)
	}
}

func (c *fileCache) dropLocked(rel string, e *cachedFile) {
	delete(c.entries, rel)
	e.dropped = true
	e.refs--
	if e.refs == 0 {
		e.fh.Close()
	}
}

// resolveCached is resolveBeneath through the open-file cache: a regular
// file found is cached; the caller calls done when it no longer reads fh
// (for a status other than 0 there is nothing to release).
func (s *Server) resolveCached(root string, dir *os.File, rel string) (real string, fh fileHandle, st os.FileInfo, status int, done func()) {
	valid := s.FileCacheValid
	if valid == 0 {
		valid = DefaultFileCacheValid
	}
	if valid < 0 {
		real, fh, st, status = resolveBeneath(root, dir, rel)
		return real, fh, st, status, func() { fh.Close() }
	}
	now := time.Now()
	if e := s.files.get(rel, now); e != nil {
		return e.real, e.fh, e.st, 0, func() { s.files.release(e) }
	}
	real, fh, st, status = resolveBeneath(root, dir, rel)
	if status != 0 {
		return real, fh, st, status, func() {}
	}
	if !st.Mode().IsRegular() {
		return real, fh, st, 0, func() { fh.Close() }
	}
	e := s.files.put(rel, real, fh, st, now.Add(valid))
	return real, fh, st, 0, func() { s.files.release(e) }
}
