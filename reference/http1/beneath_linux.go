package http1

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// openFlags open a file for reading without blocking on a FIFO (a FIFO
// under the root must not hang the connection) and without a controlling
// terminal.
const openFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK

// openBeneath opens rel relative to dir for reading, refusing in the kernel
// any path that leaves dir through ".." or a symlink (openat2 with
// RESOLVE_BENEATH).
func openBeneath(dir *os.File, rel string) (fileHandle, error) {
	how := unix.OpenHow{
		Flags:   openFlags,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(int(dir.Fd()), rel, &how)
		switch {
		case err == nil:
			return &rawFile{fd: fd, name: rel}, nil
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case errors.Is(err, unix.EXDEV):
			return nil, errEscapes
		case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
			// No openat2 here (an old kernel, or a seccomp filter that
			// refuses it): the caller resolves in user space.
			return nil, errUnsupported
		default:
			return nil, err
		}
	}
}

// openNonBlocking opens a path already resolved beneath the root.
func openNonBlocking(name string) (fileHandle, error) {
	for {
		fd, err := unix.Open(name, openFlags, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &rawFile{fd: fd, name: name}, nil
	}
}

// rawFile is a file read with pread on its descriptor. An *os.File would
// ask the descriptor's flags and try to add it to the network poller on
// every open (two system calls that fail for regular files), a tenth of a
// small file's cost; files are read in place and closed when the request
// is done.
type rawFile struct {
	fd   int
	name string
}

func (f *rawFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Pread(f.fd, p[n:], off+int64(n))
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return n, &fs.PathError{Op: "read", Path: f.name, Err: err}
		case k == 0:
			return n, io.EOF
		}
		n += k
	}
	return n, nil
}

func (f *rawFile) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

func (f *rawFile) Stat() (os.FileInfo, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstat(f.fd, &st)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "stat", Path: f.name, Err: err}
		}
		return &rawStat{name: f.name, st: st}, nil
	}
}

// rawStat is the os.FileInfo of a rawFile.
type rawStat struct {
	name string
	st   unix.Stat_t
}

func (s *rawStat) Name() string       { return s.name }
func (s *rawStat) Size() int64        { return s.st.Size }
func (s *rawStat) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *rawStat) IsDir() bool        { return s.Mode().IsDir() }
func (s *rawStat) Sys() any           { return &s.st }
func (s *rawStat) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	default:
		m |= fs.ModeIrregular
	}
	return m
}
