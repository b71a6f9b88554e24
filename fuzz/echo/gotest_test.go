//go:build !gofuzz_libfuzzer

package echofuzz

// libFuzzer: false under go test, where an F lasts the whole fuzz target
// and runs its Cleanup functions at the end.
const libFuzzer = false
