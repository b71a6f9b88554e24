package stress

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Resources is one sample of a server's resident memory and open
// descriptors. A field is -1 when it could not be measured.
type Resources struct {
	RSS int64
	FDs int
}

// meter samples a server's resources: a launched server's process group
// by its PID, this very process for the in-process reference (its RSS
// then includes protospec's own, and its descriptors are not told apart
// from the attack's, so they are not measured), nothing for an address.
type meter struct {
	pgid int  // > 0: a launched server's process group
	pid  int  // > 0: the one process the user named (Options.PID)
	self bool // the in-process reference
	// How says what the figures are, for the report.
	How string
}

func (m meter) sample() Resources {
	switch {
	case m.pgid > 0:
		rss, fds := groupUsage(m.pgid)
		return Resources{RSS: rss, FDs: fds}
	case m.pid > 0:
		rss, fds := procUsage(m.pid)
		return Resources{RSS: rss, FDs: fds}
	case m.self:
		return Resources{RSS: selfRSS(), FDs: -1}
	}
	return Resources{RSS: -1, FDs: -1}
}

// groupUsage sums the RSS and counts the open descriptors of the
// processes whose process group is pgid (-1, -1 when there is none).
func groupUsage(pgid int) (int64, int) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1, -1
	}
	page := int64(os.Getpagesize())
	var rss int64
	fds, found := 0, false
	for _, e := range ents {
		name := e.Name()
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		// Fields are counted after the command's closing parenthesis:
		// the 3rd is pgrp, the 22nd rss in pages.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 22 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		pages, err := strconv.ParseInt(f[21], 10, 64)
		if err != nil {
			continue
		}
		found = true
		rss += pages * page
		if d, err := os.ReadDir("/proc/" + name + "/fd"); err == nil {
			fds += len(d)
		}
	}
	if !found {
		return -1, -1
	}
	return rss, fds
}

// procUsage is the RSS and open descriptors of one process (-1, -1 when
// it is not there or not readable).
func procUsage(pid int) (int64, int) {
	rss := statusRSS(fmt.Sprintf("/proc/%d/status", pid))
	d, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if rss < 0 || err != nil {
		return rss, -1
	}
	return rss, len(d)
}

// selfRSS is this process's resident memory.
func selfRSS() int64 { return statusRSS("/proc/self/status") }

// statusRSS reads VmRSS from a /proc status file.
func statusRSS(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb); err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// openFDs counts this process's open descriptors (0 when unknown).
func openFDs() int {
	d, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(d)
}
