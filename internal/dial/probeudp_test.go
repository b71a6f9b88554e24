package dial

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

// An answer from another port of the addressed host counts; silence and
// datagrams accept refuses do not.
func TestProbeUDP(t *testing.T) {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	other, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			if bytes.Equal(buf[:n], []byte("ping")) {
				other.WriteTo([]byte("pong"), from) // from another port
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	isPong := func(b []byte) bool { return bytes.Equal(b, []byte("pong")) }
	if err := ProbeUDP(ctx, srv.LocalAddr().String(), []byte("ping"), 3, isPong); err != nil {
		t.Errorf("answer from another port: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := ProbeUDP(ctx2, srv.LocalAddr().String(), []byte("silence"), 3, isPong); err == nil {
		t.Error("a silent server passed the probe")
	}
}
