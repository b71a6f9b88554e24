// Package http1 is the tolerant, incremental HTTP/1 wire codec shared by
// the observers (suite oracle, pcap dissector, fuzz model, load client):
// it frames requests and responses (RFC 9112), reports every grammar
// problem as a typed Problem with a stable rule ID instead of refusing
// it, and bounds what it keeps. The reference server keeps its own strict
// parser; the two are fuzzed against each other in fuzz/http1.
package http1
