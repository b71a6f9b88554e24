package reference

import (
	"context"
	"slices"
	"testing"

	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/reference/echo"
)

// TestServeEchoParams checks the limit params are declared for serve,
// parsed into the server's fields, and checked.
func TestServeEchoParams(t *testing.T) {
	var names []string
	for _, p := range ServeParams(contract.Contract) {
		names = append(names, p.Name)
	}
	for _, want := range []string{contract.ParamService, contract.ParamMaxConns, contract.ParamMaxConnsPerClient} {
		if !slices.Contains(names, want) {
			t.Errorf("serve echo params %v lack %s", names, want)
		}
	}

	var s echo.Server
	if err := echoLimits(&s, map[string]string{contract.ParamMaxConns: "10", contract.ParamMaxConnsPerClient: "2"}); err != nil {
		t.Fatal(err)
	}
	if s.MaxConns != 10 || s.MaxConnsPerClient != 2 {
		t.Errorf("MaxConns %d, MaxConnsPerClient %d; want 10, 2", s.MaxConns, s.MaxConnsPerClient)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, contract.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{contract.ParamMaxConnsPerClient: "3"}}); err != nil {
		t.Errorf("good params: %v", err)
	}
	for _, name := range []string{contract.ParamMaxConns, contract.ParamMaxConnsPerClient} {
		for _, bad := range []string{"x", "0", "-1", "99999999999"} {
			if err := Serve(ctx, contract.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{name: bad}}); err == nil {
				t.Errorf("%s=%s: no error", name, bad)
			}
		}
	}
}
