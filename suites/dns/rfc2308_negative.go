package dns

import (
	"strconv"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc2308_3 = spec.Section("dns", "rfc2308", "3", "Negative Answers from Authoritative Servers")

// soaOf returns the SOA records of a section.
func soaOf(rrs []mdns.RR) []*mdns.SOA {
	var out []*mdns.SOA
	for _, rr := range rrs {
		if s, ok := rr.(*mdns.SOA); ok {
			out = append(out, s)
		}
	}
	return out
}

// checkNegativeSOA checks that the authority section holds the zone's SOA
// and, with ttl >= 0, that its TTL is ttl.
func checkNegativeSOA(m *mdns.Msg, zone string, ttl int) error {
	soas := soaOf(m.Ns)
	if len(soas) != 1 || !mdns.IsSubDomain(zone, soas[0].Hdr.Name) || !mdns.IsSubDomain(soas[0].Hdr.Name, zone) {
		return spec.Errorf("the SOA of "+zone+" in the authority section", "%s", summary(m))
	}
	if ttl >= 0 && int(soas[0].Hdr.Ttl) != ttl {
		return spec.Errorf("the SOA's TTL to be min(SOA TTL, SOA MINIMUM) = "+itoa(ttl), "TTL %d in: %s", soas[0].Hdr.Ttl, summary(m))
	}
	return nil
}

// RFC 2308, negative caching of DNS queries: what an authoritative server
// puts in NXDOMAIN and NODATA answers.
var _ = Describe("RFC 2308 negative answers", func() {
	rfc2308_3.It("nxdomain-soa", spec.MUST, "puts the zone's SOA in the authority section of an NXDOMAIN", spec.Quote(`RFC 2308 3: "Name servers authoritative for a zone MUST include the SOA record of the zone in the authority section of the response when reporting an NXDOMAIN or indicating that no data of the requested type exists."`), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameMissing, mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkNegativeSOA(m, fixture.Origin, -1))
	})

	rfc2308_3.It("nodata-soa", spec.MUST, "puts the zone's SOA in the authority section of a NODATA answer", spec.Inferred(`RFC 2308 3 (as above), "indicating that no data of the requested type exists".`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeMX))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkNegativeSOA(m, fixture.Origin, -1))
	})

	rfc2308_3.It("nxdomain-soa-ttl", spec.MUST, "gives the SOA of an NXDOMAIN the TTL min(SOA TTL, MINIMUM) = 300", spec.Inferred(`RFC 2308 3: "The TTL of this record is set from the minimum of the MINIMUM field of the SOA record and the TTL of the SOA itself".`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameMissing, mdns.TypeA))
		t.Check(checkNegativeSOA(m, fixture.Origin, fixture.NegativeTTL))
	})

	rfc2308_3.It("nodata-soa-ttl", spec.MUST, "gives the SOA of a NODATA answer the TTL min(SOA TTL, MINIMUM) = 300", spec.Inferred(`RFC 2308 3 (as above), for NODATA.`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeMX))
		t.Check(checkNegativeSOA(m, fixture.Origin, fixture.NegativeTTL))
	})

	rfc2308_2_2.It("nodata-shape", spec.MUST, "answers www.test. MX with NOERROR, AA and an empty answer section", spec.Inferred(`RFC 2308 2.2: "NODATA is indicated by an answer with the RCODE set to NOERROR and no relevant answers in the answer section."`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it").SharedBecause("the same requirement, of an authoritative server and of a resolver"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, mdns.TypeMX)
	})

	rfc2308_2_1.It("nxdomain-shape", spec.MUST, "answers nonexistent.test. A with NXDOMAIN and an empty answer section", spec.Inferred(`RFC 2308 2.1: "Name errors (NXDOMAIN) are indicated by the presence of "Name Error" in the RCODE field."; the answer section is empty (no CNAME leads there).`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameMissing, mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkSection("answer", m.Answer, nil, false))
	})

	rfc2308_2_2.It("nodata-tcp", spec.MUST, "answers www.test. MX over TCP with NODATA and the SOA", spec.Inferred(`RFC 2308 2.2 (as above), for a negative answer over TCP.`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthTCP, fixture.NameWWW, mdns.TypeMX)
	})

	rfc2308_3.It("nxdomain-soa-reverse-zone", spec.MUST, "puts the reverse zone's SOA in an NXDOMAIN from 0.0.127.in-addr.arpa.", spec.Inferred(`RFC 2308 3 (as above): the reverse zone reports its own SOA.`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery("9.0.0.127.in-addr.arpa.", mdns.TypePTR))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkNegativeSOA(m, fixture.ReverseOrigin, -1))
	})
})

func itoa(n int) string { return strconv.Itoa(n) }
