// Package loadgen is protospec's load engine: it drives a server with one
// protocol's requests from N connections (or N sockets), validates every
// response, and records latency in an HDR histogram.
//
// Two ways to load a server:
//
//   - closed loop (Rate 0): each connection keeps Pipeline requests
//     outstanding and sends the next as soon as a response arrives, so the
//     server's speed sets the rate, as wrk and dnsperf do by default;
//   - open loop (Rate R): requests are scheduled at R per second in total,
//     spread evenly over the connections, and latency is measured from the
//     time each request was meant to be sent, not from when it could be
//     sent. A server that stalls therefore shows its stall in every request
//     that queued behind it (the coordinated-omission correction of wrk2),
//     instead of in one slow sample.
//
// A run lasts Duration or Requests (whichever comes first), after Warmup,
// whose responses are not recorded. Failures are counted by kind (timeout,
// reset, refused, closed, bad_response, unexpected_status, other); a
// response is only a success once the protocol client has validated it.
//
// The engine knows no protocol. Each protocol's load client lives in its
// own rooms (reference/<p>/loadclient.go) and registers a Client (Register)
// under the name of the protocol's contract: its service, its params, and
// how to build the Protocol whose Conns send and validate requests, on the
// Stream and FIFO plumbing of this package. With every protocol linked in
// (import _ "github.com/protospec/protospec/protocols"):
//
//	c, err := loadgen.LookupClient(name) // name: one of loadgen.ClientNames()
//	load, err := c.Plan(map[string]string{}) // the defaults of c.Params
//	p, err := load.Open(loadgen.TCP(addr), loadgen.DefaultTimeout) // addr: the target's load.Service
//	res, err := loadgen.Run(ctx, loadgen.Config{Protocol: p, Connections: 32, Duration: 10 * time.Second})
//	fmt.Println(res.Throughput(), res.Latency.ValueAtQuantile(99))
package loadgen
