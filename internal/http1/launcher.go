package http1

import (
	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets"
)

// WriteDocrootTLS writes what an HTTP launcher's server reads from its
// work directory: the fixture docroot in htdocs/ and the run's TLS
// certificate and key in tls/.
func WriteDocrootTLS(r *targets.Run) error {
	if err := Write(r.Path("htdocs")); err != nil {
		return err
	}
	fx, err := r.Opts.TLSFixture()
	if err != nil {
		return err
	}
	_, err = fx.WriteDir(r.Path("tls"))
	return err
}

// PlainAndTLS is an HTTP launcher's endpoints: http/tcp on its first
// port, http/tls (for the fixture's "localhost" certificate) on its second.
func PlainAndTLS(r *targets.Run) map[string]targets.Endpoint {
	return map[string]targets.Endpoint{
		"http/tcp": {Network: "tcp", Addr: r.Addr(0)},
		"http/tls": {Network: "tcp", Addr: r.Addr(1), Security: dial.TLS, ServerName: "localhost"},
	}
}
