// Package ftpfuzz holds FTP's network-fuzz model (model.go, registered
// with fuzz/engine: `protospec fuzz ftp`), whose sessions make the data
// connections the control connection announces, the native Go fuzz
// targets for the whole reference server (fed command sequences on the
// control connection, with the data connections made as asked: no panic,
// no hang, never a 226 for a file that did not arrive whole) and for the
// model itself, and stress.go, the FTP stress battery (`protospec stress
// ftp`): connection floods, slowloris, huge command lines, data
// connections never opened, a thousand PASVs, slow data readers.
//
// The codecs (reply, command and ASCII-mode fuzz targets) are fuzzed in
// internal/wire/ftp.
//
// Run one target with a count budget, e.g.:
//
//	go test -run='^$' -fuzz='^FuzzServer$' -fuzztime=20000x ./fuzz/ftp
package ftpfuzz
