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
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs xinetd is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts xinetd.
type Launcher struct{}

const pkg = "xinetd"

// Name implements targets.Launcher.
func (Launcher) Name() string { return "xinetd" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"echo"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary("xinetd", pkg)
	return err
}

// services are the built-in services started, each on its own port for
// both TCP and UDP. xinetd requires the service's own name in the config.
var services = []string{"echo", "discard", "daytime", "chargen"}

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := targets.FindBinary("xinetd", pkg)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, "xinetd")
	if err != nil {
		return nil, err
	}
	ports, err := targets.FreePorts("127.0.0.1", len(services))
	if err != nil {
		cleanup()
		return nil, err
	}
	eps := map[string]targets.Endpoint{}
	var conf strings.Builder
	// xinetd disables a service for 10 s after 50 connections a second
	// (cps = 50 10), which a suite reaches at once.
	conf.WriteString("defaults\n{\n\tinstances = UNLIMITED\n\tper_source = UNLIMITED\n\tcps = 100000 1\n}\n")
	for i, svc := range services {
		addr := fmt.Sprintf("127.0.0.1:%d", ports[i])
		for _, tr := range []struct{ sock, proto, wait string }{{"stream", "tcp", "no"}, {"dgram", "udp", "yes"}} {
			fmt.Fprintf(&conf, "service %s\n{\n\ttype = INTERNAL UNLISTED\n\tid = %s-%s\n\tsocket_type = %s\n\tprotocol = %s\n\twait = %s\n\tuser = root\n\tport = %d\n\tbind = 127.0.0.1\n}\n",
				svc, svc, tr.sock, tr.sock, tr.proto, tr.wait, ports[i])
			eps[svc+"/"+tr.proto] = targets.Endpoint{Network: tr.proto, Addr: addr}
		}
	}
	confPath := filepath.Join(dir, "xinetd.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		cleanup()
		return nil, err
	}
	// Without -filelog xinetd exits silently; -dontfork keeps the launched
	// PID the server's.
	p, err := targets.StartProcess("xinetd", filepath.Join(dir, "stdout.log"), opts.Log,
		bin, "-dontfork", "-filelog", filepath.Join(dir, "xinetd.log"), "-f", confPath, "-pidfile", filepath.Join(dir, "xinetd.pid"))
	if err != nil {
		cleanup()
		return nil, err
	}
	stop := func() error {
		err := p.Stop(3 * time.Second)
		cleanup()
		return err
	}
	if err := p.WaitReady(ctx, 10*time.Second, func(ctx context.Context) error {
		for _, svc := range services {
			if err := targets.DialProbe(eps[svc+"/tcp"].Addr)(ctx); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "xinetd.log"))
		stop()
		return nil, fmt.Errorf("%w (log: %s)", err, strings.TrimSpace(string(log)))
	}
	return &targets.Static{
		TargetName: "xinetd",
		Kind:       targets.KindLauncher,
		Version:    version(bin),
		Endpoints:  eps,
		Reasons: map[string]string{
			"uppercase/tcp": "xinetd has no uppercase service: it offers the RFC 862/863/864/867 built-ins only",
			"uppercase/udp": "xinetd has no uppercase service: it offers the RFC 862/863/864/867 built-ins only",
		},
		OnClose: stop,
		Proc:    p,
	}, nil
}

func version(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-version").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "xinetd"
	}
	return "xinetd " + s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "echo"
}
