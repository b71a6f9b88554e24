package dnsfuzz

import (
	"encoding/binary"
	"fmt"
	"time"

	mdns "github.com/miekg/dns"

	contract "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/internal/stress"
)

// The DNS stress battery (`protospec stress dns`), in the hostile-client
// room beside the fuzz model. The legitimate client is the contract's
// probe (a query for the fixture's apex SOA, or a name the resolver is
// expected to resolve).
func init() {
	tcpFlood := stress.ConnFlood("dns/tcp", nil)
	tcpFlood.Probe = "dns/tcp"
	stress.Register(contract.Name, stress.Battery{
		Examples: []string{"--target nsd --attack tcp-lockout --attack amplification", "--target unbound --attack random-name-flood"},
		Attacks: []stress.Attack{
			tcpFlood,
			stress.Trickle("tcp-lockout",
				"opens 160 TCP connections (more than a 128-slot server has) and sends a query on each every 3 s, so no idle timeout ends them",
				"dns/tcp", 160, 3*time.Second, func(i int) []byte { return tcpQuery("www."+contract.Origin, mdns.TypeA, uint16(i)) }),
			stress.UDPFlood("random-name-flood",
				"sends 5,000 queries a second for random names under the fixture's zone to the resolver, filling its cache with names that do not exist",
				"resolver/udp", "resolver/udp", 4, 5000, func(i int) []byte {
					return query(fmt.Sprintf("r%08x-%d.%s", uint32(i)*2654435761, i, contract.Origin), mdns.TypeA, uint16(i), 0)
				}),
			stress.Amplification("dns/udp", 40, [][]byte{
				query(contract.Origin, mdns.TypeANY, 1, 4096),
				query("big."+contract.Origin, mdns.TypeTXT, 2, 4096),
				query(contract.Origin, mdns.TypeANY, 3, 0),
			}),
		},
	})
}

// query is a DNS query for name and type with the given ID, with an EDNS
// OPT record advertising bufsize when bufsize is not 0.
func query(name string, qtype, id uint16, bufsize uint16) []byte {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	m.RecursionDesired = true
	if bufsize > 0 {
		m.SetEdns0(bufsize, false)
	}
	b, err := m.Pack()
	if err != nil {
		panic(fmt.Sprintf("dns stress: packing a query for %s: %v", name, err))
	}
	return b
}

// tcpQuery is query with the two-byte length prefix of DNS over TCP.
func tcpQuery(name string, qtype, id uint16) []byte {
	q := query(name, qtype, id, 0)
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)
}
