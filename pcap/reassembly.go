package pcap

import (
	"sort"
	"time"
)

// stream reassembles one direction of a TCP connection: it delivers the
// bytes in sequence order exactly once, holds out-of-order segments up to
// a limit, drops retransmissions, trims overlaps and reports what is
// missing as gaps. It keeps no bytes once they are delivered.
type stream struct {
	started bool
	syn     bool   // a SYN was seen
	isn     uint32 // its sequence number
	next    uint32 // sequence number of the next byte to deliver
	fin     bool
	finSeq  uint32
	closed  bool
	pending []pendingSeg // out of order, sorted by seq
	bytes   int          // bytes held in pending
}

type pendingSeg struct {
	seq     uint32
	data    []byte
	missing int
	t       time.Time
	fin     bool
}

// streamSink receives what a stream delivers.
type streamSink interface {
	deliver(t time.Time, b []byte)
	lost(n int)
	finished(t time.Time, reset bool)
}

// seqDiff is a-b in sequence space.
func seqDiff(a, b uint32) int64 { return int64(int32(a - b)) }

// reassemblyStats counts what the streams saw.
type reassemblyStats struct {
	Retransmits int // segments carrying only bytes already delivered
	Overlaps    int // segments partly delivered already
	OutOfOrder  int // segments held until the bytes before them came
	Gaps        int // holes declared
	GapBytes    int64
}

// segment feeds one TCP segment of this direction. It returns the change
// in bytes held so the caller can keep a total.
func (s *stream) segment(seg *Segment, sink streamSink, st *reassemblyStats, limit int) int {
	before := s.bytes
	if s.closed {
		return 0
	}
	if seg.SYN {
		if !s.syn {
			s.syn, s.isn = true, seg.Seq
		}
		if !s.started {
			s.started = true
			s.next = seg.Seq + 1
		}
		seq := seg.Seq + 1
		s.add(seq, seg, sink, st)
	} else {
		if !s.started {
			s.started = true
			s.next = seg.Seq
		}
		s.add(seg.Seq, seg, sink, st)
	}
	if seg.RST {
		s.flush(sink, st)
		s.closed = true
		sink.finished(seg.Time, true)
	}
	for s.bytes > limit && len(s.pending) > 0 {
		s.skipToPending(sink, st)
	}
	return s.bytes - before
}

func (s *stream) add(seq uint32, seg *Segment, sink streamSink, st *reassemblyStats) {
	data, missing := seg.Payload, seg.Missing
	if seg.FIN {
		end := seq + uint32(len(data)+missing)
		if !s.fin {
			s.fin, s.finSeq = true, end
		}
	}
	if len(data)+missing == 0 {
		s.checkFin(seg.Time, sink)
		return
	}
	d := seqDiff(seq, s.next)
	switch {
	case d+int64(len(data)+missing) <= 0:
		st.Retransmits++
		return
	case d < 0:
		st.Overlaps++
		cut := int(-d)
		if cut >= len(data) {
			missing -= cut - len(data)
			data = nil
		} else {
			data = data[cut:]
		}
		seq = s.next
	case d > 0:
		st.OutOfOrder++
		s.hold(seq, data, missing, seg.Time, seg.FIN)
		return
	}
	s.emit(seq, data, missing, seg.Time, sink, st)
	s.drain(sink, st)
	s.checkFin(seg.Time, sink)
}

// emit delivers bytes that start at s.next.
func (s *stream) emit(seq uint32, data []byte, missing int, t time.Time, sink streamSink, st *reassemblyStats) {
	if len(data) > 0 {
		sink.deliver(t, data)
	}
	if missing > 0 {
		st.Gaps++
		st.GapBytes += int64(missing)
		sink.lost(missing)
	}
	s.next = seq + uint32(len(data)+missing)
}

func (s *stream) hold(seq uint32, data []byte, missing int, t time.Time, fin bool) {
	p := pendingSeg{seq: seq, data: append([]byte(nil), data...), missing: missing, t: t, fin: fin}
	i := sort.Search(len(s.pending), func(i int) bool { return seqDiff(s.pending[i].seq, seq) >= 0 })
	if i < len(s.pending) && s.pending[i].seq == seq && len(s.pending[i].data) >= len(data) {
		return // a retransmission of a segment already held
	}
	s.pending = append(s.pending, pendingSeg{})
	copy(s.pending[i+1:], s.pending[i:])
	s.pending[i] = p
	s.bytes += len(p.data)
}

// drain delivers held segments that have become contiguous.
func (s *stream) drain(sink streamSink, st *reassemblyStats) {
	for len(s.pending) > 0 {
		p := s.pending[0]
		d := seqDiff(p.seq, s.next)
		if d > 0 {
			return
		}
		s.pending = s.pending[1:]
		s.bytes -= len(p.data)
		data, missing := p.data, p.missing
		if cut := int(-d); cut > 0 {
			if cut >= len(data)+missing {
				st.Retransmits++
				continue
			}
			st.Overlaps++
			if cut >= len(data) {
				missing -= cut - len(data)
				data = nil
			} else {
				data = data[cut:]
			}
		}
		s.emit(s.next, data, missing, p.t, sink, st)
	}
	if len(s.pending) == 0 {
		s.pending = nil
	}
}

// skipToPending declares the hole before the first held segment lost and
// delivers from there.
func (s *stream) skipToPending(sink streamSink, st *reassemblyStats) {
	p := s.pending[0]
	if n := seqDiff(p.seq, s.next); n > 0 {
		st.Gaps++
		st.GapBytes += n
		sink.lost(int(n))
		s.next = p.seq
	}
	s.drain(sink, st)
}

func (s *stream) checkFin(t time.Time, sink streamSink) {
	if s.fin && !s.closed && seqDiff(s.next, s.finSeq) >= 0 {
		s.closed = true
		sink.finished(t, false)
	}
}

// flush delivers everything held, declaring the holes lost: the capture
// ended or the connection was reset.
func (s *stream) flush(sink streamSink, st *reassemblyStats) {
	for len(s.pending) > 0 {
		s.skipToPending(sink, st)
	}
	if s.fin && !s.closed {
		if n := seqDiff(s.finSeq, s.next); n > 0 {
			st.Gaps++
			st.GapBytes += n
			sink.lost(int(n))
			s.next = s.finSeq
		}
	}
}
