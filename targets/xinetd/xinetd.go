// Package xinetd launches xinetd with its built-in RFC 862 echo, RFC 863
// discard, RFC 864 chargen and RFC 867 daytime services on free loopback
// ports, as a target for the echo suite (xinetd.conf.tmpl).
//
//	protospec run echo --target xinetd --baseline builtin
package xinetd

import (
	"context"
	_ "embed"

	"github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs xinetd is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed xinetd.conf.tmpl
var config string

// services are the built-in services started, the i-th on the i-th port
// for both TCP and UDP.
var services = []string{"echo", "discard", "daytime", "chargen"}

// transport is how xinetd.conf names one transport of a service.
type transport struct{ Sock, Proto, Wait string }

const noUppercase = "xinetd has no uppercase service: it offers the RFC 862/863/864/867 built-ins only"

var launcher = targets.Declare(targets.Declared{
	Name:        "xinetd",
	Protocol:    echo.Name,
	Binary:      "xinetd",
	Package:     "xinetd",
	VersionArgs: []string{"-version"},
	VersionText: func(s string) string { return "xinetd " + s },
	Baseline:    Baseline,
	Reasons:     map[string]string{"uppercase/tcp": noUppercase, "uppercase/udp": noUppercase},
	Vars: map[string]any{
		"services":   services,
		"transports": []transport{{"stream", "tcp", "no"}, {"dgram", "udp", "yes"}},
	},
	Ports:          len(services),
	ConfigTemplate: config,
	ConfigFile:     "xinetd.conf",
	// Without -filelog xinetd exits silently; -dontfork keeps the
	// launched PID the server's.
	Argv: func(r *targets.Run) []string {
		return []string{"-dontfork", "-filelog", r.Path("xinetd.log"), "-f", r.Config, "-pidfile", r.Path("xinetd.pid")}
	},
	Probe: func(r *targets.Run) func(context.Context) error {
		return func(ctx context.Context) error {
			for i := range services {
				if err := targets.DialProbe(r.Addr(i))(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	},
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint {
		eps := map[string]targets.Endpoint{}
		for i, svc := range services {
			eps[svc+"/tcp"] = targets.Endpoint{Network: "tcp", Addr: r.Addr(i)}
			eps[svc+"/udp"] = targets.Endpoint{Network: "udp", Addr: r.Addr(i)}
		}
		return eps
	},
	ServerLog: "xinetd.log",
	LogLabel:  "log",
})
