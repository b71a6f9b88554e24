// Package http1 is the observers' HTTP/1 wire codec (suite oracle, pcap
// dissector, fuzz model, load client): an incremental Decoder frames
// requests or responses (RFC 9112 6.3) from bytes fed as they arrive and
// reports each grammar problem as a typed Problem with a stable rule ID
// instead of refusing it. The reference server keeps its own strict
// parser; fuzz/http1 fuzzes the two against each other.
package http1
