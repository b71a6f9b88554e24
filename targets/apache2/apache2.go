// Package apache2 launches the Apache HTTP Server (Debian's apache2) as an
// HTTP/1.1 target: it writes the fixture of internal/http1 and an
// httpd.conf of its own (httpd.conf.tmpl) into a work directory (Debian's
// /etc/apache2 and a2enmod are not used: modules are loaded from
// /usr/lib/apache2/modules), with the run's TLS fixture (tls/cert.pem,
// tls/key.pem), starts apache2 in the foreground on two free 127.0.0.1
// ports, plain ("http/tcp") and TLS with mod_ssl ("http/tls"), and stops it
// by PID on Close.
//
//	protospec run http1 --target apache2 --baseline builtin
//	protospec run http1 --tls --target apache2 --baseline builtin
//
// apache2 serves the static docroot, GET /redirect (301 to /hello.txt,
// mod_alias), PUT/DELETE under /upload/ (mod_dav, mod_dav_fs) and TRACE
// (TraceEnable on) and /echo (a CGI script, mod_cgi: the decoded request
// content back, whatever the method). It has no /form or /session
// endpoints; specs needing them are skipped with the reason.
package apache2

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs apache2 is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed httpd.conf.tmpl
var config string

// Target is a running apache2: a targets.Static with the server's PID and
// work directory (httpd.conf, htdocs/, run/, error.log,
// access.log), for tests and logs.
type Target = targets.Launched

// moduleDir holds Debian's apache2 modules.
const moduleDir = "/usr/lib/apache2/modules"

// modules are loaded with LoadModule; mod_unixd, mod_log_config and
// mod_so are compiled into Debian's apache2 (loading them again is an
// error).
var modules = []string{
	"mpm_event", "authz_core", "mime", "dir", "alias", "reqtimeout", "dav", "dav_fs", "socache_shmcb", "ssl", "cgi",
}

// echoScript serves /echo: apache2 hands a CGI script the request
// content decoded (chunked or not) on its standard input. The script
// reads all of it before it writes: mod_cgi writes the whole content
// before it reads the answer, so a script echoing as it reads would
// block on a full pipe once the content passes the pipe's 64 KiB.
const echoScript = `#!/bin/sh
t=$(mktemp) || exit 1
cat >"$t"
printf 'Content-Type: application/octet-stream\n\n'
cat "$t"
rm -f "$t"
`

var launcher = targets.Declare(targets.Declared{
	Name:     "apache2",
	Protocol: http1.Name,
	Binary:   "apache2",
	Package:  "apache2",
	// "Server version: Apache/2.4.71 (Debian)\nServer built: ...".
	VersionArgs: []string{"-v"},
	VersionText: func(s string) string { return strings.TrimSpace(strings.TrimPrefix(s, "Server version:")) },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect, http1.FeatureUpload, http1.FeatureTrace, http1.FeatureEcho},
	Reasons: map[string]string{
		http1.FeatureForm:    "apache2 serves static files only: no /form endpoint",
		http1.FeatureSession: "apache2 serves static files only: no /session endpoint",
	},
	Requires:       checkModules,
	Vars:           map[string]any{"modules": modules, "moduleDir": moduleDir, "user": "", "group": ""},
	Ports:          2,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "httpd.conf",
	// -DFOREGROUND keeps the parent (the launched PID) in the foreground;
	// the children are in its process group, which Stop signals.
	Argv:  func(r *targets.Run) []string { return []string{"-d", r.Dir, "-f", r.Config, "-DFOREGROUND"} },
	Probe: func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint {
		return map[string]targets.Endpoint{
			"http/tcp": {Network: "tcp", Addr: r.Addr(0)},
			"http/tls": {Network: "tcp", Addr: r.Addr(1), Security: dial.TLS, ServerName: "localhost"},
		}
	},
	ServerLog: "error.log",
	Prefix:    "apache2: ",
})

// checkModules wants every module of modules installed.
func checkModules() error {
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(moduleDir, "mod_"+m+".so")); err != nil {
			return fmt.Errorf("%w: apache2 module mod_%s missing from %s (install the Debian package apache2: apt-get install apache2)", targets.ErrMissingBinary, m, moduleDir)
		}
	}
	return nil
}

// prepare writes the docroot, the TLS certificate and key, run/ and an
// empty mime.types into the work directory. As root it also sets the user and group apache2's children
// run as (Vars user and group), and lets them in: apache2 refuses to serve
// as root, and the children must reach the docroot (MkdirTemp made the
// work dir 0700) and write the upload area and the DAV lock database.
func prepare(r *targets.Run) error {
	docroot := r.Path("htdocs")
	if err := http1.Write(docroot); err != nil {
		return err
	}
	fx, err := r.Opts.TLSFixture()
	if err != nil {
		return err
	}
	if _, err := fx.WriteDir(r.Path("tls")); err != nil {
		return err
	}
	run := r.Path("run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(r.Path("mime.types"), nil, 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(r.Path("cgi"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(r.Path("cgi", "echo"), []byte(echoScript), 0o755); err != nil {
		return err
	}
	if !r.Root {
		return nil
	}
	runAs, group, err := serverUser()
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(runAs.Uid)
	gid, _ := strconv.Atoi(runAs.Gid)
	if err := os.Chmod(r.Dir, 0o755); err != nil {
		return err
	}
	for _, d := range []string{filepath.Join(docroot, "upload"), run} {
		if err := os.Chown(d, uid, gid); err != nil {
			return err
		}
	}
	r.Vars["user"], r.Vars["group"] = runAs.Username, group
	return nil
}

// serverUser is the unprivileged user apache2's children run as: Debian's
// www-data, else nobody.
func serverUser() (*user.User, string, error) {
	for _, name := range []string{"www-data", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return nil, "", fmt.Errorf("group %s of user %s: %w", u.Gid, name, err)
		}
		return u, g.Name, nil
	}
	return nil, "", fmt.Errorf("neither user www-data nor nobody exists to run apache2's children")
}
