package protocol

import "strings"

// OverTLS is the TLS counterpart of a TCP service key ("http/tcp" gives
// "http/tls"), which a pillar run with --tls reaches instead; other keys
// are returned as they are.
func OverTLS(service string) string {
	if name, ok := strings.CutSuffix(service, "/tcp"); ok {
		return name + "/tls"
	}
	return service
}
