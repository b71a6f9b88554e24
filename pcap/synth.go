package pcap

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// MSS is the largest TCP payload a synthesized segment carries.
const MSS = 1460

// Synthesized hosts' MAC addresses: locally administered, client and
// server.
var (
	clientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	serverMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

// Writer writes a pcapng capture with one Ethernet interface, building the
// Ethernet, IP and TCP or UDP headers of each packet itself (checksums
// included), so that Wireshark and tshark dissect the result like traffic
// captured on a wire. It is not safe for concurrent use.
type Writer struct {
	ng      *pcapgo.NgWriter
	buf     gopacket.SerializeBuffer
	packets int
	l       packetLayers
}

// packetLayers are the layers of the packet being built, reused from one
// packet to the next.
type packetLayers struct {
	eth      layers.Ethernet
	ip4      layers.IPv4
	ip6      layers.IPv6
	tcp      layers.TCP
	udp      layers.UDP
	payload  gopacket.Payload
	src, dst [16]byte
	mss      [2]byte
	opts     [1]layers.TCPOption
}

// serialize builds the packet of the layers given and the payload in
// w.buf.
func (w *Writer) serialize(ip, transport gopacket.SerializableLayer, payload []byte) error {
	w.l.payload = payload
	err := gopacket.SerializeLayers(w.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, &w.l.eth, ip, transport, &w.l.payload)
	w.l.payload = nil
	return err
}

// NewWriter starts a pcapng capture on w.
func NewWriter(w io.Writer) (*Writer, error) {
	intf := pcapgo.NgInterface{
		Name:                "protospec",
		Description:         "synthesized by protospec",
		LinkType:            layers.LinkTypeEthernet,
		SnapLength:          MaxPacket,
		TimestampResolution: 9,
	}
	ng, err := pcapgo.NewNgWriterInterface(w, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "protospec"}})
	if err != nil {
		return nil, fmt.Errorf("pcap: %w", err)
	}
	return &Writer{ng: ng, buf: gopacket.NewSerializeBuffer()}, nil
}

// Packets is the number of packets written so far.
func (w *Writer) Packets() int { return w.packets }

// Flush writes out what is buffered; call it before closing the file.
func (w *Writer) Flush() error { return w.ng.Flush() }

// WriteFrame writes one Ethernet frame as it is, with an optional comment.
func (w *Writer) WriteFrame(ts time.Time, frame []byte, comment string) error {
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}
	var opts pcapgo.NgPacketOptions
	if comment != "" {
		opts.Comments = []string{comment}
	}
	w.packets++
	return w.ng.WritePacketWithOptions(ci, frame, opts)
}

// ipLayers sets the Ethernet and IP layers of a packet from src to dst
// in w.l and returns the IP layer.
func (w *Writer) ipLayers(src, dst netip.Addr, proto layers.IPProtocol, fromClient bool) (gopacket.NetworkLayer, gopacket.SerializableLayer, error) {
	eth := &w.l.eth
	*eth = layers.Ethernet{SrcMAC: clientMAC, DstMAC: serverMAC}
	if !fromClient {
		eth.SrcMAC, eth.DstMAC = serverMAC, clientMAC
	}
	src, dst = src.Unmap(), dst.Unmap()
	switch {
	case src.Is4() && dst.Is4():
		eth.EthernetType = layers.EthernetTypeIPv4
		s, d := src.As4(), dst.As4()
		ip := &w.l.ip4
		*ip = layers.IPv4{Version: 4, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment, SrcIP: w.l.src[:copy(w.l.src[:], s[:])], DstIP: w.l.dst[:copy(w.l.dst[:], d[:])]}
		return ip, ip, nil
	case src.Is6() && dst.Is6():
		eth.EthernetType = layers.EthernetTypeIPv6
		w.l.src, w.l.dst = src.As16(), dst.As16()
		ip := &w.l.ip6
		*ip = layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: w.l.src[:], DstIP: w.l.dst[:]}
		return ip, ip, nil
	}
	return nil, nil, fmt.Errorf("pcap: cannot make a packet from %v to %v (address families differ or are invalid)", src, dst)
}

// UDP writes one UDP datagram from src to dst. fromClient picks the MAC
// addresses.
func (w *Writer) UDP(ts time.Time, src, dst netip.AddrPort, fromClient bool, payload []byte, comment string) error {
	if len(payload) > 65507 {
		return errors.New("pcap: UDP payload larger than 65507 bytes")
	}
	nl, ip, err := w.ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolUDP, fromClient)
	if err != nil {
		return err
	}
	udp := &w.l.udp
	*udp = layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(nl); err != nil {
		return err
	}
	if err := w.serialize(ip, udp, payload); err != nil {
		return fmt.Errorf("pcap: building a UDP packet: %w", err)
	}
	return w.WriteFrame(ts, w.buf.Bytes(), comment)
}

// TCPConn synthesizes the packets of one TCP connection: the three-way
// handshake, data segmented at MSS and acknowledged by the peer, and a FIN
// exchange or a reset.
type TCPConn struct {
	w              *Writer
	Client, Server netip.AddrPort
	// Comment is attached to every packet of the connection.
	Comment string
	// MSS is the largest payload of one segment (default MSS).
	MSS int

	cseq, sseq   uint32 // next sequence number each side sends
	open         bool
	finC, finS   bool
	reset        bool
	cpend, spend bool // data sent and not yet acknowledged by the peer
}

// TCP starts describing a connection from client to server; nothing is
// written until Handshake.
func (w *Writer) TCP(client, server netip.AddrPort, comment string) *TCPConn {
	h := fnv.New32a()
	h.Write([]byte(client.String() + ">" + server.String()))
	isn := h.Sum32()
	return &TCPConn{w: w, Client: client, Server: server, Comment: comment, MSS: MSS, cseq: isn, sseq: isn*2654435761 + 1}
}

// Closed reports whether both sides sent FIN or one reset the connection.
func (c *TCPConn) Closed() bool { return c.reset || (c.finC && c.finS) }

// FinSent reports whether the client (or the server) has sent its FIN.
func (c *TCPConn) FinSent(fromClient bool) bool {
	if fromClient {
		return c.finC
	}
	return c.finS
}

func (c *TCPConn) segment(ts time.Time, fromClient bool, flags string, payload []byte) error {
	src, dst := c.Client, c.Server
	seq, ack := c.cseq, c.sseq
	if !fromClient {
		src, dst = dst, src
		seq, ack = ack, seq
	}
	w := c.w
	nl, ip, err := w.ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolTCP, fromClient)
	if err != nil {
		return err
	}
	tcp := &w.l.tcp
	*tcp = layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		case 'P':
			tcp.PSH = true
		}
	}
	if tcp.ACK {
		tcp.Ack = ack
	}
	if tcp.SYN {
		w.l.mss = [2]byte{byte(c.MSS >> 8), byte(c.MSS)}
		w.l.opts[0] = layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: w.l.mss[:]}
		tcp.Options = w.l.opts[:]
	}
	if err := tcp.SetNetworkLayerForChecksum(nl); err != nil {
		return err
	}
	if err := w.serialize(ip, tcp, payload); err != nil {
		return fmt.Errorf("pcap: building a TCP packet: %w", err)
	}
	n := uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		n++
	}
	if fromClient {
		c.cseq += n
	} else {
		c.sseq += n
	}
	return w.WriteFrame(ts, w.buf.Bytes(), c.Comment)
}

// Handshake writes SYN, SYN-ACK and ACK.
func (c *TCPConn) Handshake(ts time.Time) error {
	if c.open {
		return nil
	}
	c.open = true
	if c.MSS <= 0 {
		c.MSS = MSS
	}
	for _, s := range []struct {
		client bool
		flags  string
	}{{true, "S"}, {false, "SA"}, {true, "A"}} {
		if err := c.segment(ts, s.client, s.flags, nil); err != nil {
			return err
		}
		ts = ts.Add(time.Microsecond)
	}
	return nil
}

// Data writes p as segments of at most MSS bytes from one side; the peer
// acknowledges it when it next sends, or with a bare ACK at Flush time.
func (c *TCPConn) Data(ts time.Time, fromClient bool, p []byte) error {
	if err := c.Handshake(ts); err != nil {
		return err
	}
	if c.reset || c.FinSent(fromClient) {
		return fmt.Errorf("pcap: data after the %s closed its side", side(fromClient))
	}
	// Data in the other direction acknowledges ours.
	if fromClient {
		c.spend = false
	} else {
		c.cpend = false
	}
	for len(p) > 0 {
		n := min(len(p), c.MSS)
		if err := c.segment(ts, fromClient, "PA", p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	if fromClient {
		c.cpend = true
	} else {
		c.spend = true
	}
	return nil
}

// Ack writes a bare ACK from one side when the other has unacknowledged
// data.
func (c *TCPConn) Ack(ts time.Time, fromClient bool) error {
	pending := c.spend
	if !fromClient {
		pending = c.cpend
	}
	if !pending || c.reset {
		return nil
	}
	if fromClient {
		c.spend = false
	} else {
		c.cpend = false
	}
	return c.segment(ts, fromClient, "A", nil)
}

// Fin closes one side: FIN-ACK from it, then the peer's ACK.
func (c *TCPConn) Fin(ts time.Time, fromClient bool) error {
	if err := c.Handshake(ts); err != nil {
		return err
	}
	if c.reset || c.FinSent(fromClient) {
		return nil
	}
	if fromClient {
		c.finC = true
	} else {
		c.finS = true
	}
	// The FIN-ACK acknowledges the peer's data, the peer's ACK ours.
	c.cpend, c.spend = false, false
	if err := c.segment(ts, fromClient, "FA", nil); err != nil {
		return err
	}
	return c.segment(ts.Add(time.Microsecond), !fromClient, "A", nil)
}

// Reset writes a RST from one side.
func (c *TCPConn) Reset(ts time.Time, fromClient bool) error {
	if err := c.Handshake(ts); err != nil {
		return err
	}
	if c.reset {
		return nil
	}
	c.reset = true
	return c.segment(ts, fromClient, "RA", nil)
}

// Close ends the connection cleanly: pending ACKs, then the FINs not yet
// sent, the client's first.
func (c *TCPConn) Close(ts time.Time) error {
	if !c.open || c.Closed() {
		return nil
	}
	if err := c.Fin(ts, true); err != nil {
		return err
	}
	return c.Fin(ts.Add(2*time.Microsecond), false)
}

func side(client bool) string {
	if client {
		return "client"
	}
	return "server"
}
