// Package pcap reads, dissects, checks, replays and writes packet captures.
// It knows no protocol: each protocol's room (pcap/<p>) registers its
// dissector, rules and replay comparison (Register, Protocol), and the
// engine picks one per flow by port, DecodeAs or content sniffing.
//
// Reading streams the file: classic pcap in either byte order with micro-
// or nanosecond timestamps, pcapng with any number of interfaces and
// sections, either of them gzip-compressed, told apart by magic number.
// Damage (a truncated file, packets cut by the snap length, lengths that
// cannot be right, garbage) is counted and reported, never a panic and never
// a reason to hold more than a bounded amount of memory.
//
//	r, err := pcap.OpenFile("traffic.pcapng")
//	if err != nil { ... }
//	defer r.Close()
//	c, err := pcap.Analyze(r, pcap.Options{OnMessage: func(m *pcap.Message) { fmt.Println(m) }})
//
// Writing synthesizes Ethernet/IP/TCP/UDP packets from a conversation
// (WriteTranscript, Writer) so that a spec's transcript opens in Wireshark.
package pcap

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// MaxPacket is the largest packet record read; a larger one is skipped
// (pcapng) or ends the file as corrupt (classic pcap).
const MaxPacket = 262144

// maxBlock bounds a pcapng block: a longer one is taken for corruption.
const maxBlock = 64 << 20

// maxWarnings is how many warnings a reader keeps word for word; the
// others are only counted.
const maxWarnings = 10

// Errors of the package.
var (
	// ErrFormat is returned by Open for data that is neither pcap nor
	// pcapng (nor gzip of either).
	ErrFormat = errors.New("pcap: not a pcap or pcapng file")
)

// Format names a capture file format.
type Format string

// Formats Open recognizes.
const (
	FormatPcap   Format = "pcap"
	FormatPcapNG Format = "pcapng"
)

// Packet is one captured packet. Data is valid until the next call to
// Next.
type Packet struct {
	Timestamp time.Time
	// Data is the captured bytes; OrigLen is the packet's length on the
	// wire, larger when the snap length cut it.
	Data     []byte
	OrigLen  int
	LinkType layers.LinkType
	// Interface is the pcapng interface index (0 for classic pcap).
	Interface int
	// Comment is the packet's pcapng comment, if any.
	Comment string
	// Index is the packet's number in the file, from 1.
	Index int
}

// ReadStats counts what a Reader read and what it had to skip.
type ReadStats struct {
	Packets int   // packets returned
	Bytes   int64 // captured bytes returned
	Cut     int   // packets shorter than on the wire (snap length)
	Skipped int   // records skipped: bogus lengths, unknown interfaces
	// Corrupt is set when the file ended in damage (truncated or garbage).
	Corrupt bool
}

// Reader reads packets from a capture file, one at a time.
type Reader struct {
	Format     Format
	Compressed bool

	br     *bufio.Reader
	closer io.Closer
	order  binary.ByteOrder
	be     bool // order is big-endian
	buf    []byte
	// blk, when not nil, holds the rest of the record being read, in
	// place in br's buffer: the reads of the record come from it.
	blk      []byte
	hdr      [32]byte
	warnings []string
	nwarn    int
	stats    ReadStats
	offset   int64
	done     bool

	// classic pcap
	nano     bool
	linkType layers.LinkType
	snaplen  uint32

	// pcapng
	ifaces []ngIface
}

type ngIface struct {
	linkType layers.LinkType
	snaplen  uint32
	// units per second of timestamps, and offset in seconds
	tsUnits  uint64
	tsOffset int64
}

// OpenFile opens a capture file; Close closes it.
func OpenFile(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := Open(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// Open reads the file header from r and returns a Reader for its packets.
// The format is decided by magic number; gzip is undone first.
func Open(in io.Reader) (*Reader, error) {
	r := &Reader{br: bufio.NewReaderSize(in, 256<<10)}
	magic, err := r.br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: only %d bytes", ErrFormat, len(magic))
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(r.br)
		if err != nil {
			return nil, fmt.Errorf("pcap: gzip: %w", err)
		}
		zr.Multistream(true)
		r.br = bufio.NewReaderSize(zr, 256<<10)
		r.Compressed = true
		if magic, err = r.br.Peek(4); err != nil {
			return nil, fmt.Errorf("%w: gzip holds only %d bytes", ErrFormat, len(magic))
		}
	}
	switch m := binary.LittleEndian.Uint32(magic); m {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		return r, r.readPcapHeader()
	case 0x0a0d0d0a:
		r.Format = FormatPcapNG
		return r, nil
	default:
		return nil, fmt.Errorf("%w: magic %08x", ErrFormat, m)
	}
}

// Close closes the file OpenFile opened.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Stats returns what was read and skipped so far.
func (r *Reader) Stats() ReadStats { return r.stats }

// Warnings returns the first problems met, word for word, and how many
// there were in all.
func (r *Reader) Warnings() ([]string, int) { return r.warnings, r.nwarn }

func (r *Reader) warnf(format string, args ...any) {
	r.nwarn++
	if len(r.warnings) < maxWarnings {
		r.warnings = append(r.warnings, fmt.Sprintf("offset %d: ", r.offset)+fmt.Sprintf(format, args...))
	}
}

// corrupt ends the file with a warning.
func (r *Reader) corrupt(format string, args ...any) error {
	r.warnf(format, args...)
	r.stats.Corrupt = true
	r.done = true
	return io.EOF
}

// peekRecord makes the next n bytes of the file the source of the reads
// of the record that starts there when they are all buffered: the record
// is then read in place, without copying. Otherwise (about once per
// buffer) the record is read from the stream as it comes, which is also
// what refills the buffer: the reads from the file are the same either
// way.
func (r *Reader) peekRecord(n int) {
	if r.br.Buffered() < n {
		return
	}
	// Neither Peek nor Discard reads when the bytes are buffered; b stays
	// valid until the next read from br.
	b, _ := r.br.Peek(n)
	r.br.Discard(n)
	r.blk = b
}

// peekHeader returns the next n bytes of the file when they are buffered,
// without consuming them.
func (r *Reader) peekHeader(n int) []byte {
	if r.br.Buffered() < n {
		return nil
	}
	b, _ := r.br.Peek(n)
	return b
}

// readHeader reads a record header like io.ReadFull, without counting
// the offset.
func (r *Reader) readHeader(h []byte) (int, error) {
	if r.blk != nil {
		n := copy(h, r.blk)
		r.blk = r.blk[n:]
		if n < len(h) {
			return n, io.ErrUnexpectedEOF
		}
		return n, nil
	}
	return io.ReadFull(r.br, h)
}

// u32 is r.order.Uint32 without the interface call.
func (r *Reader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) readFull(b []byte) error {
	n, err := r.readHeader(b)
	r.offset += int64(n)
	return err
}

func (r *Reader) discard(n int64) error {
	if r.blk != nil {
		m := min(n, int64(len(r.blk)))
		r.blk = r.blk[m:]
		r.offset += m
		if m < n {
			return io.EOF
		}
		return nil
	}
	m, err := io.CopyN(io.Discard, r.br, n)
	r.offset += m
	return err
}

// data reads n bytes into the reusable buffer, or returns them in place
// when the record is read in place.
func (r *Reader) data(n int) ([]byte, error) {
	if r.blk != nil && len(r.blk) >= n {
		b := r.blk[:n:n]
		r.blk = r.blk[n:]
		r.offset += int64(n)
		return b, nil
	}
	if cap(r.buf) < n {
		// Records are mostly read in place: this buffer is for the
		// others, made when the first comes.
		r.buf = make([]byte, max(n, 64<<10))
	}
	b := r.buf[:n]
	return b, r.readFull(b)
}

func (r *Reader) readPcapHeader() error {
	r.Format = FormatPcap
	h := r.hdr[:24]
	if err := r.readFull(h); err != nil {
		return fmt.Errorf("%w: truncated file header", ErrFormat)
	}
	switch binary.LittleEndian.Uint32(h) {
	case 0xa1b2c3d4:
		r.order = binary.LittleEndian
	case 0xa1b23c4d:
		r.order, r.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		r.order = binary.BigEndian
	case 0x4d3cb2a1:
		r.order, r.nano = binary.BigEndian, true
	}
	r.be = r.order == binary.BigEndian
	if major := r.order.Uint16(h[4:]); major != 2 {
		r.warnf("pcap version %d.%d (expected 2.4)", major, r.order.Uint16(h[6:]))
	}
	r.snaplen = r.order.Uint32(h[16:])
	// The top bits of the link type field may carry FCS information.
	r.linkType = layers.LinkType(r.order.Uint32(h[20:]) & 0x0fffffff)
	return nil
}

// Next returns the next packet, or io.EOF at the end of the file (also
// after damage: see Stats and Warnings).
func (r *Reader) Next() (Packet, error) {
	for !r.done {
		var p Packet
		var ok bool
		var err error
		if r.Format == FormatPcap {
			ok, err = r.nextPcap(&p)
		} else {
			ok, err = r.nextNG(&p)
		}
		if err != nil {
			r.done = true
			return Packet{}, err
		}
		if !ok {
			continue
		}
		r.stats.Packets++
		r.stats.Bytes += int64(len(p.Data))
		p.Index = r.stats.Packets
		if p.OrigLen > len(p.Data) {
			r.stats.Cut++
		}
		if p.OrigLen < len(p.Data) {
			p.OrigLen = len(p.Data)
		}
		return p, nil
	}
	return Packet{}, io.EOF
}

// eofErr maps a read error inside a record to the end of the file.
func (r *Reader) eofErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.corrupt("file truncated inside %s", what)
	}
	if r.Compressed {
		return r.corrupt("gzip: %v", err)
	}
	return err
}

func (r *Reader) nextPcap(p *Packet) (bool, error) {
	r.blk = nil
	if b := r.peekHeader(16); b != nil {
		if capLen := r.u32(b[8:]); capLen <= MaxPacket {
			r.peekRecord(16 + int(capLen))
			if r.blk != nil && r.quickPcap(p) {
				return true, nil
			}
		}
	}
	h := r.hdr[:16]
	n, err := r.readHeader(h)
	r.offset += int64(n)
	if err == io.EOF {
		r.done = true
		return false, io.EOF
	}
	if err != nil {
		return false, r.eofErr(err, "a packet header")
	}
	sec, frac := r.u32(h), r.u32(h[4:])
	capLen, origLen := r.u32(h[8:]), r.u32(h[12:])
	if capLen > MaxPacket {
		// Nothing after a bogus length can be trusted: the records are
		// not self-synchronizing.
		return false, r.corrupt("packet %d: capture length %d is over %d: the rest of the file is unreadable", r.stats.Packets+r.stats.Skipped+1, capLen, MaxPacket)
	}
	data, err := r.data(int(capLen))
	if err != nil {
		return false, r.eofErr(err, "a packet")
	}
	if origLen > 1<<24 || (capLen > origLen && origLen != 0) {
		r.stats.Skipped++
		r.warnf("packet with capture length %d and wire length %d: skipped", capLen, origLen)
		return false, nil
	}
	ns := int64(frac)
	if !r.nano {
		ns *= 1000
	}
	if ns >= 1e9 {
		ns = 1e9 - 1
	}
	*p = Packet{Timestamp: time.Unix(int64(sec), ns).UTC(), Data: data, OrigLen: int(origLen), LinkType: r.linkType}
	return true, nil
}

// quickPcap reads the record in r.blk, in one go, when its lengths are
// plausible (the common case). Otherwise it reports false, having read
// nothing, and the record is read piece by piece.
func (r *Reader) quickPcap(p *Packet) bool {
	b := r.blk
	capLen, origLen := r.u32(b[8:]), r.u32(b[12:])
	if origLen > 1<<24 || (capLen > origLen && origLen != 0) {
		return false
	}
	ns := int64(r.u32(b[4:]))
	if !r.nano {
		ns *= 1000
	}
	if ns >= 1e9 {
		ns = 1e9 - 1
	}
	*p = Packet{Timestamp: time.Unix(int64(r.u32(b)), ns).UTC(), Data: b[16:len(b):len(b)], OrigLen: int(origLen), LinkType: r.linkType}
	r.offset += int64(len(b))
	r.blk = nil
	return true
}

// pcapng block types.
const (
	ngSHB = 0x0a0d0d0a
	ngIDB = 0x00000001
	ngOPB = 0x00000002 // obsolete packet block
	ngSPB = 0x00000003
	ngEPB = 0x00000006
)

func (r *Reader) nextNG(p *Packet) (bool, error) {
	r.blk = nil
	if b := r.peekHeader(8); b != nil && r.order != nil && binary.LittleEndian.Uint32(b) != ngSHB {
		if length := r.u32(b[4:]); length >= 12 && length%4 == 0 && length <= maxBlock {
			r.peekRecord(int(length))
			if r.blk != nil && r.quickEPB(p) {
				return true, nil
			}
		}
	}
	h := r.hdr[:8]
	n, err := r.readHeader(h)
	r.offset += int64(n)
	if err == io.EOF {
		r.done = true
		return false, io.EOF
	}
	if err != nil {
		return false, r.eofErr(err, "a block header")
	}
	if binary.LittleEndian.Uint32(h) == ngSHB {
		return false, r.readSHB(h)
	}
	if r.order == nil {
		return false, r.corrupt("pcapng block before any section header")
	}
	typ, length := r.u32(h), r.u32(h[4:])
	if length < 12 || length%4 != 0 || length > maxBlock {
		return false, r.corrupt("pcapng block of type %#x with bogus length %d", typ, length)
	}
	body := int(length) - 12
	var ok bool
	switch typ {
	case ngIDB:
		err = r.readIDB(body)
	case ngEPB, ngOPB:
		*p, ok, err = r.readEPB(typ, body)
	case ngSPB:
		*p, ok, err = r.readSPB(body)
	default:
		err = r.discard(int64(body))
		if err != nil {
			err = r.eofErr(err, "a block")
		}
	}
	if err != nil {
		return false, err
	}
	if err := r.readFull(r.hdr[:4]); err != nil {
		return false, r.eofErr(err, "a block trailer")
	}
	if got := r.u32(r.hdr[:4]); got != length {
		return false, r.corrupt("pcapng block of type %#x: trailing length %d differs from %d", typ, got, length)
	}
	return ok, nil
}

// quickEPB reads the block in r.blk, in one go, when it is a well-formed
// enhanced packet block without options on a known interface: what
// nearly every packet is. For any other block it reports false, having
// read nothing, and the block is read piece by piece.
func (r *Reader) quickEPB(p *Packet) bool {
	b := r.blk
	if len(b) < 32 || r.u32(b) != ngEPB {
		return false
	}
	iface, capLen := r.u32(b[8:]), r.u32(b[20:])
	if capLen > MaxPacket || uint64(iface) >= uint64(len(r.ifaces)) || int(capLen+3)&^3 != len(b)-32 || r.u32(b[len(b)-4:]) != uint32(len(b)) {
		return false
	}
	ifc := &r.ifaces[iface]
	ts := uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:]))
	end := 28 + int(capLen)
	*p = Packet{Data: b[28:end:end], OrigLen: int(r.u32(b[24:])), LinkType: ifc.linkType, Interface: int(iface), Timestamp: r.timestamp(ifc, ts)}
	r.offset += int64(len(b))
	r.blk = nil
	return true
}

func (r *Reader) readSHB(h []byte) error {
	if err := r.readFull(r.hdr[8:16]); err != nil {
		return r.eofErr(err, "a section header")
	}
	switch binary.LittleEndian.Uint32(r.hdr[8:]) {
	case 0x1a2b3c4d:
		r.order = binary.LittleEndian
	case 0x4d3c2b1a:
		r.order = binary.BigEndian
	default:
		return r.corrupt("pcapng section header with bad byte-order magic")
	}
	r.be = r.order == binary.BigEndian
	length := r.order.Uint32(h[4:])
	if length < 28 || length%4 != 0 || length > maxBlock {
		return r.corrupt("pcapng section header with bogus length %d", length)
	}
	r.ifaces = r.ifaces[:0]
	// Version and section length, options, trailer.
	if err := r.discard(int64(length) - 16); err != nil {
		return r.eofErr(err, "a section header")
	}
	return nil
}

// options walks pcapng options in b, calling fn for each.
func (r *Reader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, l := r.order.Uint16(b), int(r.order.Uint16(b[2:]))
		if code == 0 {
			return
		}
		b = b[4:]
		if l > len(b) {
			return
		}
		fn(code, b[:l])
		b = b[min((l+3)&^3, len(b)):]
	}
}

func (r *Reader) readIDB(body int) error {
	if body < 8 || body > 1<<16 {
		return r.corrupt("pcapng interface block of %d bytes", body)
	}
	b, err := r.data(body)
	if err != nil {
		return r.eofErr(err, "an interface block")
	}
	ifc := ngIface{linkType: layers.LinkType(r.order.Uint16(b)), snaplen: r.order.Uint32(b[4:]), tsUnits: 1e6}
	r.options(b[8:], func(code uint16, v []byte) {
		switch {
		case code == 9 && len(v) >= 1: // if_tsresol
			e := v[0] & 0x7f
			units := uint64(1)
			for i := 0; i < int(e) && units < 1e18; i++ {
				if v[0]&0x80 != 0 {
					units *= 2
				} else {
					units *= 10
				}
			}
			ifc.tsUnits = units
		case code == 14 && len(v) >= 8: // if_tsoffset
			ifc.tsOffset = int64(r.order.Uint64(v))
		}
	})
	if len(r.ifaces) >= 1024 {
		r.warnf("more than 1024 interfaces: ignoring one")
		return nil
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

func (r *Reader) timestamp(ifc *ngIface, ts uint64) time.Time {
	var sec, ns int64
	switch ifc.tsUnits {
	// The usual resolutions, divided by constants.
	case 1e6:
		sec, ns = int64(ts/1e6), int64(ts%1e6*1e3)
	case 1e9:
		sec, ns = int64(ts/1e9), int64(ts%1e9)
	default:
		sec = int64(ts / ifc.tsUnits)
		rem := ts % ifc.tsUnits
		if ifc.tsUnits <= 1e9 {
			ns = int64(rem * (1e9 / ifc.tsUnits))
		} else {
			ns = int64(rem / (ifc.tsUnits / 1e9))
		}
	}
	return time.Unix(sec+ifc.tsOffset, ns).UTC()
}

func (r *Reader) readEPB(typ uint32, body int) (Packet, bool, error) {
	if body < 20 {
		return Packet{}, false, r.corrupt("pcapng packet block of %d bytes", body)
	}
	h := r.hdr[8:28]
	if err := r.readFull(h); err != nil {
		return Packet{}, false, r.eofErr(err, "a packet block")
	}
	body -= 20
	var iface int
	if typ == ngOPB {
		iface = int(r.order.Uint16(h))
	} else {
		iface = int(r.u32(h))
	}
	ts := uint64(r.u32(h[4:]))<<32 | uint64(r.u32(h[8:]))
	capLen, origLen := r.u32(h[12:]), r.u32(h[16:])
	padded := int64(capLen+3) &^ 3
	if int64(capLen) > int64(body) || padded > int64(body) || capLen > MaxPacket || iface >= len(r.ifaces) {
		r.stats.Skipped++
		switch {
		case iface >= len(r.ifaces):
			r.warnf("packet on undeclared interface %d: skipped", iface)
		default:
			r.warnf("packet with capture length %d in a block of %d bytes: skipped", capLen, body)
		}
		if err := r.discard(int64(body)); err != nil {
			return Packet{}, false, r.eofErr(err, "a packet block")
		}
		return Packet{}, false, nil
	}
	data, err := r.data(int(padded))
	if err != nil {
		return Packet{}, false, r.eofErr(err, "a packet")
	}
	data = data[:capLen:capLen]
	ifc := &r.ifaces[iface]
	p := Packet{Data: data, OrigLen: int(origLen), LinkType: ifc.linkType, Interface: iface, Timestamp: r.timestamp(ifc, ts)}
	rest := body - int(padded)
	if rest > 0 && rest <= 1<<16 {
		var opts []byte
		if r.blk != nil && len(r.blk) >= rest {
			opts, r.blk = r.blk[:rest], r.blk[rest:]
			r.offset += int64(rest)
		} else {
			opts = make([]byte, rest)
			if err := r.readFull(opts); err != nil {
				return Packet{}, false, r.eofErr(err, "packet options")
			}
		}
		r.options(opts, func(code uint16, v []byte) {
			if code == 1 && p.Comment == "" {
				p.Comment = string(v)
			}
		})
	} else if rest > 0 {
		if err := r.discard(int64(rest)); err != nil {
			return Packet{}, false, r.eofErr(err, "packet options")
		}
	}
	return p, true, nil
}

func (r *Reader) readSPB(body int) (Packet, bool, error) {
	if body < 4 || len(r.ifaces) == 0 {
		r.stats.Skipped++
		r.warnf("simple packet block without an interface or length: skipped")
		if err := r.discard(int64(body)); err != nil {
			return Packet{}, false, r.eofErr(err, "a packet block")
		}
		return Packet{}, false, nil
	}
	if err := r.readFull(r.hdr[8:12]); err != nil {
		return Packet{}, false, r.eofErr(err, "a packet block")
	}
	origLen := r.order.Uint32(r.hdr[8:])
	body -= 4
	capLen := min(int(origLen), body)
	if s := r.ifaces[0].snaplen; s != 0 && capLen > int(s) {
		capLen = int(s)
	}
	if capLen > MaxPacket || body > MaxPacket+4 {
		r.stats.Skipped++
		r.warnf("simple packet block of %d bytes: skipped", body)
		if err := r.discard(int64(body)); err != nil {
			return Packet{}, false, r.eofErr(err, "a packet block")
		}
		return Packet{}, false, nil
	}
	data, err := r.data(body)
	if err != nil {
		return Packet{}, false, r.eofErr(err, "a packet")
	}
	return Packet{Data: data[:capLen], OrigLen: int(origLen), LinkType: r.ifaces[0].linkType}, true, nil
}
