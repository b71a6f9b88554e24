package dns

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// A measured cache-poisoning race (RFC 5452 4, 9.2): while the authority
// sits on the real answer, the suite sends forged answers at line rate from
// the authority's own address and port to the resolver, on the source port
// the resolver used for its previous query (what an off-path attacker who
// made it ask about a name of its own would know), with every query ID in
// turn. The victim's name has no letters, so 0x20 adds nothing: the ID and
// the port are the whole defence.
const (
	// raceFlood bounds the flood of forgeries, which tries every ID once
	// (about 0.3 s on loopback); the authority holds the real answer back
	// until the flood has ended, raceHold at most, so that a slow or
	// loaded machine sends every forgery before the real answer (a time
	// bound alone let a fixed-port resolver go unpoisoned under load).
	raceFlood = 4 * time.Second
	raceHold  = raceFlood + time.Second
)

var _ = Describe("RFC 5452 forgery race", func() {
	rfc5452_9_2.It("forgery-race-lost", spec.MUST, "believes none of 65536 forged answers sent at line rate while its authority is slow", spec.Inferred(`RFC 5452 9.2: "Resolver implementations MUST: Use an unpredictable source port for outgoing queries from the range of available ports (53, or 1024 and above) that is as large as possible and practicable; ... Use an unpredictable query ID for outgoing queries, utilizing the full range available (0-65535)." With a fixed port, one query ID in 65536 is all a spoofer must guess, and a flood tries them all before the real answer comes.`, "RFC 5452 states it without an RFC 2119 key word; MUST is the suite's reading of it").SharedBecause("the measured attack the entropy of 9.2 is for"), func(t *spec.T) {
		sc := newScenario(t)
		tld := fmt.Sprintf("%d.", 10000000+randInt(89999999))
		z := sc.newZone(tld, 60, map[int]serverMode{0: modeAnswer})
		sc.addTo(z, "1 300 IN A "+realAddr, "2 300 IN A "+realAddr)
		probe, victim := "1."+tld, "2."+tld

		// The attacker's view: the port of the resolver's previous query.
		m := sc.resolve(probe, mdns.TypeA)
		t.Check(checkAddrs(m, probe, realAddr))
		var learned netip.AddrPort
		for _, q := range sc.seen(probe, 0) {
			if !q.TCP {
				learned = q.From
			}
		}
		if !learned.IsValid() {
			t.Failf("the fake authority saw no UDP query for %s", probe)
		}

		var mu sync.Mutex
		var real []seenQuery
		var lastReal time.Time
		release := make(chan struct{})
		var once sync.Once
		sc.rule(victim, func(e *fakeExchange) bool {
			if e.tcp {
				return false
			}
			mu.Lock()
			real = append(real, seenQuery{From: e.from, ID: e.q.Id})
			lastReal = time.Now()
			mu.Unlock()
			select {
			case <-release:
			case <-time.After(raceHold):
			}
			e.send(e.answer())
			return true
		})
		defer once.Do(func() { close(release) })

		q := recQuery(victim, mdns.TypeA)
		p := t.DialPacket(ServiceResolverUDP)
		p.Send(mustPack(t, q))
		for wait := time.Now().Add(3 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			mu.Lock()
			n := len(real)
			mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(wait) {
				t.Failf("the resolver sent no UDP query for %s within 3s", victim)
			}
		}

		forged := new(mdns.Msg)
		forged.Response, forged.Authoritative = true, true
		forged.Question = []mdns.Question{{Name: victim, Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
		forged.Answer = []mdns.RR{mustRR(victim + " 300 IN A " + forgedAddr)}
		wire := mustPack(t, forged)
		conn := sc.f.root().pc
		start := uint16(randInt(1 << 16))
		began := time.Now()
		_ = conn.SetWriteDeadline(began.Add(raceFlood + time.Second))
		// Every ID once; again while the resolver sent a new query (a
		// retransmission with another ID) during the last sweep, as an
		// attacker keeps flooding while the resolver waits, within
		// raceFlood.
		sent := 0
	flood:
		for time.Since(began) < raceFlood {
			sweep := time.Now()
			for i := 0; i < 1<<16 && time.Since(began) < raceFlood; i++ {
				binary.BigEndian.PutUint16(wire, start+uint16(sent))
				if _, err := conn.WriteToUDPAddrPort(wire, learned); err != nil {
					break flood
				}
				sent++
			}
			mu.Lock()
			again := lastReal.After(sweep)
			mu.Unlock()
			if !again {
				break
			}
		}
		took := time.Since(began)
		once.Do(func() { close(release) })

		var answer *mdns.Msg
		for deadline := time.Now().Add(5 * time.Second); answer == nil && time.Now().Before(deadline); {
			b, err := p.ReplyWithin(time.Until(deadline), 65535)
			if spec.IsTimeout(err) {
				break
			}
			t.Check(err)
			if r := unpack(t, b); r.Id == q.Id && r.Response {
				answer = r
			}
		}
		mu.Lock()
		first := real[0]
		mu.Unlock()
		idx := int(first.ID - start)
		t.Note("%d forgeries in %v (%.0f/s) to port %d, IDs from %d; the resolver's query for %s came from port %d with ID %d: the matching forgery was %s",
			sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), learned.Port(), start, victim, first.From.Port(), first.ID,
			matchNote(first.From.Port() == learned.Port(), idx, sent))
		t.Note("what a spoofer must guess: 16 bits of ID, and the source port (%d queries saw ports %v)", len(real), portsOf(real))
		if answer == nil {
			// A resolver may give up on an authority that sat on its
			// queries for seconds (unbound does, under load). What it
			// caches is the verdict: asked again, it must answer, and
			// never with the forged address.
			t.Note("no answer for %s within 5s after the authority answered: the resolver gave up on the slow authority", victim)
		}
		for _, a := range answerAddrs(answer, victim) {
			if a == forgedAddr {
				t.Mismatch("none of the forged answers believed", "poisoned: %d forgeries sent, the matching one %s: %s", sent, matchNote(first.From.Port() == learned.Port(), idx, sent), summary(answer))
			}
		}
		checkNotPoisoned(sc, victim, answer == nil)
	})
})

func matchNote(samePort bool, idx, sent int) string {
	switch {
	case !samePort:
		return "never sent (the query used another port)"
	case idx < sent:
		return fmt.Sprintf("number %d", idx+1)
	default:
		return "not reached within the flood"
	}
}

func portsOf(qs []seenQuery) string {
	var s []string
	for _, q := range qs {
		s = append(s, fmt.Sprint(q.From.Port()))
	}
	return strings.Join(s, " ")
}
