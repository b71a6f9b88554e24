//go:build !linux

package http1

import "os"

// openBeneath has no kernel help outside Linux: the caller resolves the
// path in user space.
func openBeneath(dir *os.File, rel string) (fileHandle, error) { return nil, errUnsupported }

// openNonBlocking opens a path already resolved beneath the root.
func openNonBlocking(name string) (fileHandle, error) { return os.Open(name) }
