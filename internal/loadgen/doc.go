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
// The protocol clients are Echo (the uppercase line protocol), HTTP1
// (request mix, keep-alive or not, pipelining) and DNS (dnsperf query
// files, UDP or TCP):
//
//	p, err := loadgen.NewHTTP1(loadgen.HTTP1Options{Addr: "127.0.0.1:8080", Requests: []string{"/hello.txt"}})
//	if err != nil { ... }
//	res, err := loadgen.Run(ctx, loadgen.Config{Protocol: p, Connections: 32, Duration: 10 * time.Second})
//	fmt.Println(res.Throughput(), res.Latency.ValueAtQuantile(99))
package loadgen
