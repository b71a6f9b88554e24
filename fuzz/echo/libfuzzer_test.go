//go:build gofuzz_libfuzzer

package echofuzz

// libFuzzer: this package is built by go-118-fuzz-build for libFuzzer
// (scripts/libfuzzer-build.sh, OSS-Fuzz), where an F lasts one input and
// never runs its Cleanup functions.
const libFuzzer = true
