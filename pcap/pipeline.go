package pcap

import (
	"runtime"
	"sync"
	"time"
)

// serialOnly makes Analyze read and analyze on one goroutine (for the
// tests that compare both ways).
var serialOnly bool

// pipelined reports whether Analyze reads and decodes in a goroutine of
// its own, while the calling one analyzes: only when another processor
// can run it.
func pipelined() bool {
	return !serialOnly && runtime.GOMAXPROCS(0) > 1
}

// Batches of decoded segments go from the goroutine that reads and
// decodes to the one that analyzes.
const (
	batchSegments = 512
	// batchArena bounds the payload bytes of a batch (unless one payload
	// alone is larger); its arena grows to it from minArena as needed.
	batchArena = 1 << 20
	minArena   = 64 << 10
	// batches in circulation, which bounds the memory the pipeline holds.
	nBatches = 4
)

// batch is a run of decoded segments whose payloads are copied into
// arena, since a packet's bytes are only valid until the next is read.
type batch struct {
	segs  []Segment
	arena []byte
	// marks are the progress reports due before segs[mark.at] (after
	// the last segment when at is len(segs)).
	marks []progressMark
	end   bool  // the reading ended with this batch
	err   error // why, when end is set (io.EOF at the end of the file)
	// Set with end: the number of packets read, and the first and last
	// times of the capture as read computes them.
	packets     int
	first, last time.Time
}

type progressMark struct {
	at      int
	packets int
	bytes   int64
}

func (b *batch) reset() {
	clear(b.segs)
	b.segs, b.arena, b.marks = b.segs[:0], b.arena[:0], b.marks[:0]
	b.end, b.err, b.packets, b.first, b.last = false, nil, 0, time.Time{}, time.Time{}
}

// batchPool keeps batches, with their grown storage, from one Analyze to
// the next.
var batchPool = sync.Pool{New: func() any { return new(batch) }}

// readPipelined reads and decodes r in a goroutine of its own while the
// calling one analyzes what it decoded, batch by batch. The reader and
// decoder belong to that goroutine until the last batch is received;
// the callbacks run on the calling goroutine, in the same order as with
// read.
func (a *analyzer) readPipelined(r *Reader, dec *Decoder) error {
	full := make(chan *batch, nBatches)
	free := make(chan *batch, nBatches)
	for range nBatches {
		free <- batchPool.Get().(*batch)
	}
	stop := make(chan struct{})
	exited := make(chan struct{})
	var panicked any
	go func() {
		defer close(exited)
		// A panic goes on to the caller of Analyze, as without the
		// goroutine.
		defer func() { panicked = recover() }()
		produce(r, dec, a.o.OnProgress != nil, free, full, stop)
	}()
	// Whatever happens here (a callback may panic), the reading stops
	// before the caller gets the reader back; then the batches, wherever
	// they are, go back to the pool.
	var b *batch
	defer func() {
		close(stop)
		<-exited
		if b != nil {
			b.reset()
			batchPool.Put(b)
		}
		for {
			select {
			case b := <-free:
				b.reset()
				batchPool.Put(b)
			case b := <-full:
				b.reset()
				batchPool.Put(b)
			default:
				return
			}
		}
	}()
	for {
		select {
		case b = <-full:
		case <-exited:
			// The reading ended without its last batch: it panicked.
			select {
			case b = <-full:
			default:
				panic(panicked)
			}
		}
		m := 0
		for i := range b.segs {
			for ; m < len(b.marks) && b.marks[m].at == i; m++ {
				a.progress(b.marks[m])
			}
			s := &b.segs[i]
			a.packet = s.Packet
			a.sum.Segments++
			a.segment(s)
		}
		for ; m < len(b.marks); m++ {
			a.progress(b.marks[m])
		}
		if b.end {
			a.packet = b.packets
			a.sum.First, a.sum.Last = b.first, b.last
			return b.err
		}
		b.reset()
		free <- b
		b = nil
	}
}

func (a *analyzer) progress(m progressMark) {
	a.o.OnProgress(Progress{Packets: m.packets, Bytes: m.bytes, Flows: a.nextID, Active: len(a.flows)})
}

// produce reads and decodes packets into batches until the end of r, or
// until stop is closed.
func produce(r *Reader, dec *Decoder, progress bool, free, full chan *batch, stop chan struct{}) {
	var b *batch
	select {
	case b = <-free:
	case <-stop:
		return
	}
	send := func() bool {
		// b belongs to the analysis once sent.
		end := b.end
		select {
		case full <- b:
		case <-stop:
			return false
		}
		if end {
			return false
		}
		select {
		case b = <-free:
			return true
		case <-stop:
			return false
		}
	}
	var seg Segment
	var first, last time.Time
	for {
		// What is decoded goes on before a read that may wait for input
		// (a pipe, say), so that the analysis never waits for packets
		// that are already there.
		if len(b.segs) > 0 && r.br.Buffered() == 0 && !send() {
			return
		}
		p, err := r.Next()
		if err != nil {
			b.end, b.err, b.packets = true, err, r.Stats().Packets
			b.first, b.last = first, last
			send()
			return
		}
		if progress && p.Index%ProgressEvery == 0 {
			st := r.Stats()
			b.marks = append(b.marks, progressMark{at: len(b.segs), packets: st.Packets, bytes: st.Bytes})
		}
		if first.IsZero() || p.Timestamp.Before(first) {
			first = p.Timestamp
		}
		if p.Timestamp.After(last) {
			last = p.Timestamp
		}
		if !dec.Decode(p, &seg) {
			continue
		}
		if len(b.arena)+len(seg.Payload) > cap(b.arena) {
			if len(b.arena) > 0 && len(b.arena)+len(seg.Payload) > batchArena {
				// Marks due before this segment are due at the end of
				// the batch when it opens the next one: the order is the
				// same.
				if !send() {
					return
				}
			}
			if len(b.arena)+len(seg.Payload) > cap(b.arena) {
				// A larger arena; the segments already in the batch keep
				// the old one alive.
				b.arena = make([]byte, 0, max(min(2*cap(b.arena), batchArena), minArena, len(seg.Payload)))
			}
		}
		n := len(b.arena)
		b.arena = append(b.arena, seg.Payload...)
		seg.Payload = b.arena[n:len(b.arena):len(b.arena)]
		b.segs = append(b.segs, seg)
		if len(b.segs) == batchSegments && !send() {
			return
		}
	}
}
