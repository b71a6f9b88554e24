package http1

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openBeneath opens rel relative to dir for reading, refusing in the kernel
// any path that leaves dir through ".." or a symlink (openat2 with
// RESOLVE_BENEATH).
func openBeneath(dir *os.File, rel string) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(int(dir.Fd()), rel, &how)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), rel), nil
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
