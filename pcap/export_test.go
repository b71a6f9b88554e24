package pcap

import "time"

// What the external tests (package pcap_test, which may import the
// protocol rooms) need of the engine's insides.

var (
	SerialOnly  = &serialOnly
	CheckExpiry = &checkExpiry
)

const (
	NgSHB      = ngSHB
	NgIDB      = ngIDB
	NgEPB      = ngEPB
	NgDSB      = blockTypeDSB
	SecretsTLS = secretsTypeTLS
)

// Seq is the next sequence number of one side.
func (c *TCPConn) Seq(fromClient bool) *uint32 {
	if fromClient {
		return &c.cseq
	}
	return &c.sseq
}

// Segment writes one segment as it is.
func (c *TCPConn) Segment(ts time.Time, fromClient bool, flags string, payload []byte) error {
	return c.segment(ts, fromClient, flags, payload)
}

// SetOpen marks the connection open, as if its handshake was not captured.
func (c *TCPConn) SetOpen() { c.open = true }

// OnWriter returns a copy of c that writes to w.
func (c *TCPConn) OnWriter(w *Writer) *TCPConn {
	d := *c
	d.w = w
	return &d
}

// Released reports whether a flow that ended let its analysis state go.
func (f *Flow) Released() bool { return f.flowState == nil }
