package pcap

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// isRawLinkType reports whether a link type carries bare IP packets
// (LINKTYPE_RAW and the platform DLT_RAW values some files store,
// LINKTYPE_IPV4, LINKTYPE_IPV6).
func isRawLinkType(lt layers.LinkType) bool {
	switch lt {
	case 101, 12, 14, 228, 229:
		return true
	}
	return false
}

// Segment is the transport-level view of one packet: a TCP segment or a
// UDP datagram between two endpoints.
type Segment struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	UDP      bool
	Seq, Ack uint32
	SYN, ACK bool
	FIN, RST bool
	Payload  []byte
	// Missing is how many payload bytes the capture cut off (snap length).
	Missing int
	// Packet is the packet's number in the file.
	Packet int
}

// DecodeStats counts the packets the decoder could not turn into
// segments.
type DecodeStats struct {
	UnknownLink int // link types it cannot decode
	NonIP       int // ARP, LLDP, ...
	Fragments   int // IP fragments not (or not yet) reassembled
	// Reassembled counts the IP datagrams rebuilt from fragments.
	Reassembled int
	OtherProto  int // ICMP, SCTP, ...
	Malformed   int // headers that do not parse
}

// Decoder turns captured packets into Segments with gopacket's
// DecodingLayerParser, without allocating per packet.
type Decoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	lo     layers.Loopback
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6ext layers.IPv6ExtensionSkipper
	tcp    layers.TCP
	udp    layers.UDP
	// parsers holds one parser per first layer, indexed by the first*
	// constants.
	parsers [nFirst]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	frags   reassembler
	Stats   DecodeStats
}

// The first layers a packet can start with, as indexes of
// Decoder.parsers.
const (
	firstEthernet = iota
	firstSLL
	firstSLL2
	firstLoopback
	firstIPv4
	firstIPv6
	nFirst
)

var firstLayers = [nFirst]gopacket.LayerType{
	firstEthernet: layers.LayerTypeEthernet,
	firstSLL:      layers.LayerTypeLinuxSLL,
	firstSLL2:     layers.LayerTypeLinuxSLL2,
	firstLoopback: layers.LayerTypeLoopback,
	firstIPv4:     layers.LayerTypeIPv4,
	firstIPv6:     layers.LayerTypeIPv6,
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 8)}
	for i, first := range firstLayers {
		// The layer types are small numbers: a slice indexed by them
		// finds the next decoder faster than the default map.
		dlc := gopacket.DecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		for _, l := range []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo, &d.ip4, &d.ip6, &d.ip6ext, &d.tcp, &d.udp} {
			dlc = dlc.Put(l)
		}
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(dlc)
		p.IgnoreUnsupported = true
		d.parsers[i] = p
	}
	return d
}

// Decode fills s from p and reports whether p was a TCP segment or UDP
// datagram it could read. s.Payload aliases p.Data.
func (d *Decoder) Decode(p Packet, s *Segment) bool {
	var first int
	switch {
	case p.LinkType == layers.LinkTypeEthernet:
		first = firstEthernet
	case p.LinkType == layers.LinkTypeLinuxSLL:
		first = firstSLL
	case p.LinkType == 276: // LINKTYPE_LINUX_SLL2
		first = firstSLL2
	case p.LinkType == layers.LinkTypeNull || p.LinkType == layers.LinkTypeLoop:
		first = firstLoopback
	case isRawLinkType(p.LinkType):
		if len(p.Data) == 0 {
			d.Stats.Malformed++
			return false
		}
		first = firstIPv4
		if p.Data[0]>>4 == 6 {
			first = firstIPv6
		}
	default:
		d.Stats.UnknownLink++
		return false
	}
	err := d.parsers[first].DecodeLayers(p.Data, &d.decoded)
	var ip, transport gopacket.LayerType
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			ip = t
		case layers.LayerTypeTCP, layers.LayerTypeUDP:
			transport = t
		}
	}
	switch {
	case ip == 0 && err != nil && len(d.decoded) == 0:
		d.Stats.Malformed++
		return false
	case ip == 0:
		d.Stats.NonIP++
		return false
	case ip == layers.LayerTypeIPv4 && (d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0):
		src, _ := netip.AddrFromSlice(d.ip4.SrcIP)
		dst, _ := netip.AddrFromSlice(d.ip4.DstIP)
		k := fragKey{src: src, dst: dst, id: uint32(d.ip4.Id), proto: uint8(d.ip4.Protocol)}
		return d.fragment(p, s, k, int(d.ip4.FragOffset)*8, d.ip4.Flags&layers.IPv4MoreFragments != 0, d.ip4.Payload)
	case ip == layers.LayerTypeIPv6 && d.ip6.NextHeader != layers.IPProtocolTCP && d.ip6.NextHeader != layers.IPProtocolUDP:
		// Extension headers: a fragment's is read here, for the parser
		// would take the first fragment's bytes for a whole segment and a
		// later one's for a transport header.
		if proto, off, more, id, data, ok := ipv6Fragment(uint8(d.ip6.NextHeader), d.ip6.Payload); ok {
			src, _ := netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ := netip.AddrFromSlice(d.ip6.DstIP)
			return d.fragment(p, s, fragKey{src: src, dst: dst, id: id, proto: proto}, off, more, data)
		}
		if transport == 0 {
			if err != nil {
				d.Stats.Malformed++
			} else {
				d.Stats.OtherProto++
			}
			return false
		}
	case transport == 0 && err != nil:
		d.Stats.Malformed++
		return false
	case transport == 0:
		d.Stats.OtherProto++
		return false
	}
	var src, dst netip.Addr
	if ip == layers.LayerTypeIPv4 {
		src, _ = netip.AddrFromSlice(d.ip4.SrcIP)
		dst, _ = netip.AddrFromSlice(d.ip4.DstIP)
	} else {
		src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
		dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
	}
	d.fill(p, s, src, dst, transport, ip == layers.LayerTypeIPv4, p.OrigLen-len(p.Data))
	return true
}

// fragment takes one IP fragment and, when it completes its datagram,
// fills s from the whole datagram (whose payload is a buffer of its own).
func (d *Decoder) fragment(p Packet, s *Segment, k fragKey, off int, more bool, data []byte) bool {
	d.Stats.Fragments++
	buf, n := d.frags.add(k, p.Timestamp, off, more, data)
	if buf == nil {
		return false
	}
	d.Stats.Fragments -= n
	d.Stats.Reassembled++
	var transport gopacket.LayerType
	var err error
	switch k.proto {
	case uint8(layers.IPProtocolTCP):
		transport, err = layers.LayerTypeTCP, d.tcp.DecodeFromBytes(buf, gopacket.NilDecodeFeedback)
	case uint8(layers.IPProtocolUDP):
		transport, err = layers.LayerTypeUDP, d.udp.DecodeFromBytes(buf, gopacket.NilDecodeFeedback)
	default:
		d.Stats.OtherProto++
		return false
	}
	if err != nil {
		d.Stats.Malformed++
		return false
	}
	d.fill(p, s, k.src, k.dst, transport, false, 0)
	return true
}

// fill sets s from the transport layer decoded last. ipLen says whether
// the IPv4 header's length tells the segment's length on the wire;
// missing is what the capture cut otherwise.
func (d *Decoder) fill(p Packet, s *Segment, src, dst netip.Addr, transport gopacket.LayerType, ipLen bool, missing int) {
	*s = Segment{Time: p.Timestamp, Packet: p.Index}
	if transport == layers.LayerTypeTCP {
		t := &d.tcp
		s.Src, s.Dst = netip.AddrPortFrom(src, uint16(t.SrcPort)), netip.AddrPortFrom(dst, uint16(t.DstPort))
		s.Seq, s.Ack = t.Seq, t.Ack
		s.SYN, s.ACK, s.FIN, s.RST = t.SYN, t.ACK, t.FIN, t.RST
		s.Payload = t.Payload
		if ipLen {
			// The IP header says how long the segment was on the wire.
			missing = int(d.ip4.Length) - int(d.ip4.IHL)*4 - int(t.DataOffset)*4 - len(t.Payload)
		}
	} else {
		u := &d.udp
		s.UDP = true
		s.Src, s.Dst = netip.AddrPortFrom(src, uint16(u.SrcPort)), netip.AddrPortFrom(dst, uint16(u.DstPort))
		s.Payload = u.Payload
		if want := int(u.Length) - 8; want >= 0 && want < len(s.Payload) {
			s.Payload = s.Payload[:want] // link-layer padding
		}
		if u.Length >= 8 {
			missing = int(u.Length) - 8 - len(s.Payload)
		}
	}
	s.Missing = max(missing, 0)
}
