package reference

import (
	"context"
	"testing"

	fixture "github.com/protospec/protospec/internal/http1"
)

// TestServeHTTP1LoopbackOnly checks serve http1 refuses a non-loopback
// address, as serve dns does.
func TestServeHTTP1LoopbackOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		if err := Serve(ctx, fixture.Name, ServeOptions{Addr: addr}); err == nil {
			t.Errorf("serve http1 --addr %s: no error", addr)
		}
	}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0"}); err != nil {
		t.Errorf("serve http1 on loopback: %v", err)
	}
}

// TestServeHTTP1Params checks the limit params are parsed and checked.
func TestServeHTTP1Params(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good := map[string]string{fixture.ParamMaxConns: "10", fixture.ParamMaxConnsPerClient: "2",
		fixture.ParamMaxInflightBodyBytes: "1048576", fixture.ParamMaxUploadBytes: "100", fixture.ParamMaxUploadFiles: "3"}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: good}); err != nil {
		t.Errorf("good params: %v", err)
	}
	for name := range good {
		if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{name: "x"}}); err == nil {
			t.Errorf("%s=x: no error", name)
		}
	}
}
