// Package dns holds protospec's reference DNS servers: an authoritative
// server (AuthServer, zones from master files via LoadZone), an iterative
// caching resolver with anti-spoofing defences (Resolver), and a miniature
// DNS hierarchy on loopback that ties them together (StartHierarchy). Its
// client side is the load client of `protospec bench dns` (LoadClient,
// registered with internal/loadgen).
// miekg/dns provides the wire format and the zone-file parser; the
// behaviour — what an authoritative server and a resolver must do by RFC
// 1034/1035/2181/2308/6891/7766/8906 — is implemented here, each check
// below the RFC sentence that requires it.
//
// Example (the classic textbook walk):
//
//	h, err := dns.StartHierarchy(ctx, dns.HierarchyConfig{})
//	if err != nil { ... }
//	defer h.Close()
//	// dig @127.0.0.10 -p <h.Port> gaia.cs.umass.edu
//	m, err := h.RecursiveResolver.Resolve(ctx, "gaia.cs.umass.edu.", mdns.TypeA)
package dns
