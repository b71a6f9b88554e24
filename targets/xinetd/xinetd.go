// Package xinetd launches xinetd with its built-in RFC 862 echo, RFC 863
// discard, RFC 864 chargen and RFC 867 daytime services on free loopback
// ports, as a target for the echo suite.
//
//	protospec run echo --target xinetd --baseline builtin
package xinetd

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs xinetd is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts xinetd.
type Launcher struct{ targets.BinaryLauncher }

var launcher = Launcher{targets.BinaryLauncher{Server: "xinetd", Serves: []string{"echo"}, Binary: "xinetd", Package: "xinetd"}}

// services are the built-in services started, each on its own port for
// both TCP and UDP. xinetd requires the service's own name in the config.
var services = []string{"echo", "discard", "daytime", "chargen"}

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	eps := map[string]targets.Endpoint{}
	run, err := targets.Server{
		Name:  "xinetd",
		Ports: len(services),
		Argv: func(dir string, ports []int) ([]string, error) {
			confPath := filepath.Join(dir, "xinetd.conf")
			if err := os.WriteFile(confPath, []byte(config(ports, eps)), 0o644); err != nil {
				return nil, err
			}
			// Without -filelog xinetd exits silently; -dontfork keeps the
			// launched PID the server's.
			return []string{bin, "-dontfork", "-filelog", filepath.Join(dir, "xinetd.log"), "-f", confPath, "-pidfile", filepath.Join(dir, "xinetd.pid")}, nil
		},
		Probe: func(string) func(context.Context) error {
			return func(ctx context.Context) error {
				for _, svc := range services {
					if err := targets.DialProbe(eps[svc+"/tcp"].Addr)(ctx); err != nil {
						return err
					}
				}
				return nil
			}
		},
		ServerLog: "xinetd.log",
		LogLabel:  "log",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return run.Target(&targets.Static{
		TargetName: "xinetd",
		Version:    version(bin),
		Endpoints:  eps,
		Reasons: map[string]string{
			"uppercase/tcp": "xinetd has no uppercase service: it offers the RFC 862/863/864/867 built-ins only",
			"uppercase/udp": "xinetd has no uppercase service: it offers the RFC 862/863/864/867 built-ins only",
		},
	}), nil
}

// config returns xinetd.conf for services on ports, and records their
// endpoints in eps.
func config(ports []int, eps map[string]targets.Endpoint) string {
	var conf strings.Builder
	// xinetd disables a service for 10 s after 50 connections a second
	// (cps = 50 10), which a suite reaches at once.
	conf.WriteString("defaults\n{\n\tinstances = UNLIMITED\n\tper_source = UNLIMITED\n\tcps = 100000 1\n}\n")
	for i, svc := range services {
		for _, tr := range []struct{ sock, proto, wait string }{{"stream", "tcp", "no"}, {"dgram", "udp", "yes"}} {
			fmt.Fprintf(&conf, "service %s\n{\n\ttype = INTERNAL UNLISTED\n\tid = %s-%s\n\tsocket_type = %s\n\tprotocol = %s\n\twait = %s\n\tuser = root\n\tport = %d\n\tbind = 127.0.0.1\n}\n",
				svc, svc, tr.sock, tr.sock, tr.proto, tr.wait, ports[i])
			eps[svc+"/"+tr.proto] = targets.Endpoint{Network: tr.proto, Addr: fmt.Sprintf("127.0.0.1:%d", ports[i])}
		}
	}
	return conf.String()
}

// version is "xinetd " and the first line of "xinetd -version".
func version(bin string) string {
	s, _ := targets.Version(bin, "-version")
	if s == "" {
		return "xinetd"
	}
	return "xinetd " + s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "echo"
}
