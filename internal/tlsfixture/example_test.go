package tlsfixture_test

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/protospec/protospec/internal/tlsfixture"
)

// A server presents the fixture's leaf; a client that trusts the fixture's
// CA verifies it for localhost.
func Example() {
	f, err := tlsfixture.New()
	if err != nil {
		panic(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Server(a, f.ServerConfig()).Handshake()
	c := tls.Client(b, &tls.Config{RootCAs: f.Pool(), ServerName: "localhost"})
	fmt.Println(c.Handshake() == nil, c.ConnectionState().PeerCertificates[0].DNSNames)
	// Output: true [localhost]
}
