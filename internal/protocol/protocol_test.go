package protocol

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := NewRegistry[int]("test value")
	r.Register("b", 2)
	r.Register("a", 1)
	if v, ok := r.Lookup("a"); !ok || v != 1 {
		t.Fatalf("Lookup(a) = %v, %v", v, ok)
	}
	if got := strings.Join(r.Names(), ","); got != "a,b" {
		t.Fatalf("Names = %s", got)
	}
	if _, err := r.Get("c"); err == nil || !strings.Contains(err.Error(), "no test value for \"c\"") {
		t.Fatalf("Get(c) error = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a name twice did not panic")
		}
	}()
	r.Register("a", 3)
}

func TestServiceKey(t *testing.T) {
	c := Contract{Services: []Service{{Name: "http", Transport: "tls", Port: 443}}}
	if s, ok := c.Service("http/tls"); !ok || s.Port != 443 {
		t.Fatalf("Service(http/tls) = %v, %v", s, ok)
	}
	if _, ok := c.Service("http/tcp"); ok {
		t.Fatal("Service(http/tcp) found")
	}
}

func TestOverTLS(t *testing.T) {
	for in, want := range map[string]string{"http/tcp": "http/tls", "dns/udp": "dns/udp", "http/tls": "http/tls", "echo": "echo"} {
		if got := OverTLS(in); got != want {
			t.Errorf("OverTLS(%q) = %q, want %q", in, got, want)
		}
	}
}
