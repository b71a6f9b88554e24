package dns

import (
	"fmt"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

// unknownDataTypes are unassigned or private-use types across the 16-bit
// range of data types (RFC 6895 3.1: 128-255 are meta types and 65535 is
// reserved, so neither is here).
var unknownDataTypes = []uint16{300, 4000, 32800, 53000, 65399, 65534}

// Unknown types across the range, as genreport asks them: each is answered
// NODATA at a name that exists, over UDP and over TCP with EDNS.
var _ = Describe("RFC 3597 unknown types across the 16-bit range", func() {
	for _, qt := range unknownDataTypes {
		rfc8906_3_1_2.It(fmt.Sprintf("unknown-type-%d-nodata", qt), spec.MUST, fmt.Sprintf("answers www.test. TYPE%d with NODATA", qt), spec.Inferred(`RFC 8906 3.1.2 (as for TYPE65280): an unknown type is answered as any other type, NODATA where the name exists.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it").SharedBecause(fmt.Sprintf("one case of the unknown-type rule, TYPE%d", qt)), func(t *spec.T) {
			m := udp(t, ServiceAuthUDP, authQuery(fixture.NameWWW, qt))
			t.Check(checkRcode(m, mdns.RcodeSuccess))
			t.Check(checkAA(m, true))
			if len(m.Answer) != 0 {
				t.Mismatch("no answer records (NODATA)", "%s", summary(m))
			}
		})
	}

	rfc8906_3_1_2.It("unknown-type-edns-tcp", spec.MUST, "answers www.test. TYPE4000 with EDNS over TCP with NODATA and an OPT record", spec.Inferred(`RFC 8906 3.1.2 (as above), with EDNS (RFC 6891 6.1.1) over TCP.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it").SharedBecause("the unknown-type rule with EDNS over TCP"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, 4000, 1232, 0, false, 0))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAA(m, true))
		t.Check(checkHasOPT(m))
		if len(m.Answer) != 0 {
			t.Mismatch("no answer records (NODATA)", "%s", summary(m))
		}
	})
})
