package http1fuzz

import (
	"fmt"
	"time"

	contract "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/stress"
)

// The HTTP/1.x stress battery (`protospec stress http1`). It lives here,
// in the hostile-client room, beside the network fuzz model: both are
// clients that misbehave on purpose, while reference/http1 is the server
// under attack and must not carry its attackers.
func init() {
	const svc = "http/tcp"
	get := []byte("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: protospec-stress\r\n\r\n")
	post := func(size int64) []byte {
		return []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: protospec-stress\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", contract.FormPath, size))
	}
	stress.Register(contract.Name, stress.Battery{
		Examples: []string{"--target nginx --duration-per-attack 5s --report-dir stress-report", "--target 127.0.0.1:8080 --attack slowloris --attack large-body"},
		Attacks: []stress.Attack{
			stress.ConnFlood(svc, nil),
			stress.Slowloris(svc, 512, 500*time.Millisecond,
				[]byte("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n"), []byte("X-Pad: a\r\n")),
			stress.SlowBody(svc, 512, 500*time.Millisecond, post(1<<20)),
			// 64 KiB answers: a few hundred requests fill any send buffer.
			stress.SlowReader(svc, 64, 256<<10, []byte("GET /data/64k.bin HTTP/1.1\r\nHost: localhost\r\nUser-Agent: protospec-stress\r\n\r\n")),
			stress.PipelineFlood(svc, 16, get),
			stress.LargeBody(svc, 64, 8<<20, post),
		},
		Probe: contract.FixtureProbe,
	})
}
