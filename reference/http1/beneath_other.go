//go:build !linux

package http1

import "os"

// openBeneath has no kernel help outside Linux: the caller resolves the
// path in user space.
func openBeneath(dir *os.File, rel string) (*os.File, error) { return nil, errUnsupported }
