// Package pcapfuzz holds the native fuzz target of the capture pipeline
// (FuzzOpen: the reader, the decoder, the reassembly, every protocol's
// dissector and the checker). It is a package of its own so that the
// harness is an in-package test file that imports the protocols'
// dissectors, as go-118-fuzz-build (the libFuzzer build of OSS-Fuzz and
// ClusterFuzzLite) requires: it cannot build a target of an external test
// package such as pcap_test, and pcap's own test files cannot import the
// dissectors, which import pcap.
//
//	go test ./pcap/pcapfuzz -run '^$' -fuzz FuzzOpen -fuzztime 30s
//	scripts/libfuzzer-build.sh ./pcap/pcapfuzz
package pcapfuzz
