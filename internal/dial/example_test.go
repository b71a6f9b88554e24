package dial_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/tlsfixture"
)

// Dial a TLS endpoint from 127.0.0.2, trusting the run's fixture CA and
// keeping the session keys for a capture.
func ExampleDialer_Dial() {
	f, err := tlsfixture.New()
	if err != nil {
		panic(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", f.ServerConfig())
	if err != nil {
		panic(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	var keys bytes.Buffer
	d := dial.Dialer{Timeout: 5 * time.Second, Source: "127.0.0.2", TLS: &tls.Config{RootCAs: f.Pool()}, KeyLog: &keys}
	c, err := d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: l.Addr().String(), Security: dial.TLS, ServerName: "localhost"})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(c.LocalAddr().String()[:10], bytes.Contains(keys.Bytes(), []byte("CLIENT_TRAFFIC_SECRET_0")))
	// Output: 127.0.0.2: true
}
