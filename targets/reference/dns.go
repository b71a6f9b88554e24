package reference

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/internal/protocol"
	refdns "github.com/protospec/protospec/reference/dns"
	"github.com/protospec/protospec/targets"
)

func init() {
	register(fixture.Name, Protocol{Start: startDNS, Serve: serveDNS, Params: append(ServeParams(fixture.Contract),
		protocol.Param{Name: fixture.ParamUpstream, Doc: "with resolver: HOST:PORT of the root server the resolver starts from"}), Examples: []string{
		"--addr 127.0.0.1:5300 --hierarchy      # dig @127.0.0.10 -p 5300 gaia.cs.umass.edu",
		"--addr 127.0.0.1:5300 --param udp-workers=4",
	}})
}

// dnsOutsider is the loopback client that the allow-lists leave out
// (suites/dns Outsider).
var dnsOutsider = netip.MustParseAddr(fixture.Outsider)

// loopbackExcept returns prefixes covering 127.0.0.0/8 and ::1 except one
// address.
func loopbackExcept(out netip.Addr) []netip.Prefix {
	var ps []netip.Prefix
	var split func(p netip.Prefix)
	split = func(p netip.Prefix) {
		if !p.Contains(out) {
			ps = append(ps, p)
			return
		}
		if p.Bits() == 32 {
			return
		}
		lo := netip.PrefixFrom(p.Addr(), p.Bits()+1)
		a := p.Addr().As4()
		bit := p.Bits() // index of the bit that splits p
		a[bit/8] |= 0x80 >> (bit % 8)
		hi := netip.PrefixFrom(netip.AddrFrom4(a), p.Bits()+1)
		split(lo)
		split(hi)
	}
	split(netip.MustParsePrefix("127.0.0.0/8"))
	return append(ps, netip.MustParsePrefix("::1/128"))
}

// loadFixtureZones parses the fixture's zones, test. with its journal.
func loadFixtureZones() ([]*refdns.Zone, error) {
	var zones []*refdns.Zone
	for _, z := range fixture.Zones {
		zz, err := refdns.LoadZone(z.Origin, strings.NewReader(z.Text()))
		if err != nil {
			return nil, fmt.Errorf("fixture zone %s: %w", z.Origin, err)
		}
		if z.Origin == fixture.Origin {
			// The history test. answers IXFR from (RFC 1995).
			journal, err := refdns.FixtureJournal()
			if err == nil {
				err = zz.SetJournal(journal)
			}
			if err != nil {
				return nil, fmt.Errorf("fixture zone %s: %w", z.Origin, err)
			}
		}
		zones = append(zones, zz)
	}
	return zones, nil
}

// listenBoth binds TCP and UDP on one port of addr ("127.0.0.1:0" picks a
// free one).
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	var lastErr error
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, err
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err == nil {
			return pc, ln, nil
		}
		ln.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// startDNS runs the authoritative server with the fixture zones on one
// ephemeral port (UDP and TCP) and, when the suite gave an upstream, the
// iterative resolver on another, rooted at the suite's fake root.
func startDNS(_ context.Context, opts targets.Options) (targets.Target, error) {
	zones, err := loadFixtureZones()
	if err != nil {
		return nil, fmt.Errorf("reference dns: %w", err)
	}
	auth := &refdns.AuthServer{Zones: zones, AllowTransfer: loopbackExcept(dnsOutsider), NSID: []byte(fixture.DefaultNSID),
		TSIGKeys: map[string]string{fixture.TSIGKeyName: fixture.TSIGKeySecret}}
	apc, aln, err := listenBoth("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("reference dns: %w", err)
	}
	go auth.ServeUDP(apc)
	go auth.ServeTCP(aln)
	closers := []func() error{auth.Close}
	closeAll := func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	st := &targets.Static{
		TargetName: "reference",
		Kind:       targets.KindReference,
		Version:    "protospec reference/dns",
		Endpoints: map[string]targets.Endpoint{
			"dns/udp": {Network: "udp", Addr: apc.LocalAddr().String()},
			"dns/tcp": {Network: "tcp", Addr: aln.Addr().String()},
		},
		Features: map[string]bool{fixture.FeatureAXFR: true, fixture.FeatureAXFRACL: true, fixture.FeaturePipelining: true, fixture.FeatureTSIG: true},
		Reasons:  map[string]string{},
		OnClose:  closeAll,
	}
	up := opts.Params[fixture.ParamUpstream]
	if up == "" {
		for _, s := range []string{"resolver/udp", "resolver/tcp", fixture.FeatureIterative, fixture.FeatureAllowlist} {
			st.Reasons[s] = "no upstream given: the reference resolver needs Params[\"upstream\"] as its root"
		}
		return st, nil
	}
	root, err := netip.ParseAddrPort(up)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("reference dns: upstream %q: %w", up, err)
	}
	port := root.Port()
	if p := opts.Params[fixture.ParamServerPort]; p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("reference dns: server-port %q: %w", p, err)
		}
		port = uint16(n)
	}
	res := &refdns.Resolver{RootHints: []netip.AddrPort{root}, ServerPort: port, AllowClients: loopbackExcept(dnsOutsider), ServeStale: opts.Params[fixture.ParamServeStale] != "false",
		QNameMin: opts.Params[fixture.ParamQNameMin] != "false", QNameMinLeakQType: opts.Params[fixture.ParamQNameMinLeakQType] == "true"}
	if p := opts.Params[fixture.ParamQuerySourcePort]; p != "" {
		if res.SourcePort, err = fixedSourcePort(p); err != nil {
			closeAll()
			return nil, fmt.Errorf("reference dns: %s %q: %w", fixture.ParamQuerySourcePort, p, err)
		}
	}
	rpc, rln, err := listenBoth("127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("reference dns: %w", err)
	}
	go res.ServeUDP(rpc)
	go res.ServeTCP(rln)
	closers = append(closers, res.Close)
	st.Endpoints["resolver/udp"] = targets.Endpoint{Network: "udp", Addr: rpc.LocalAddr().String()}
	st.Endpoints["resolver/tcp"] = targets.Endpoint{Network: "tcp", Addr: rln.Addr().String()}
	st.Features[fixture.FeatureIterative] = true
	st.Features[fixture.FeatureAllowlist] = true
	return st, nil
}

// serveDNS serves, on Addr (UDP and TCP):
//   - by default the authoritative server with the fixture zones;
//   - hierarchy=true: the loopback hierarchy of reference/dns (its own
//     addresses; Addr's port is used for all of them);
//   - resolver=true: the iterative resolver, rooted at upstream=HOST:PORT
//     or, without it, at a hierarchy started for it.
func serveDNS(ctx context.Context, opts ServeOptions) error {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:5300"
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q: the reference DNS servers only listen on loopback", addr)
	}
	port64, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return fmt.Errorf("--addr %q: bad port", addr)
	}
	startHierarchy := func(port uint16) (*refdns.Hierarchy, error) {
		h, err := refdns.StartHierarchy(ctx, refdns.HierarchyConfig{Port: port})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "hierarchy on port %d: resolver %s, root %s\n", h.Port, h.Resolver, h.Root)
		origins := make([]string, 0, len(h.Servers))
		for origin := range h.Servers {
			origins = append(origins, origin)
		}
		sort.Strings(origins)
		for _, origin := range origins {
			fmt.Fprintf(log, "  zone %-14s %s\n", origin, h.Servers[origin])
		}
		return h, nil
	}
	switch {
	case opts.Params["hierarchy"] == "true":
		h, err := startHierarchy(uint16(port64))
		if err != nil {
			return err
		}
		defer h.Close()
		fmt.Fprintf(log, "try: dig @%s -p %d %s\n", h.Resolver.Addr(), h.Port, refdns.GaiaName)
		opts.serving(Serving{Untestable: "the hierarchy serves its own zones, not the suite's fixture, and its resolver starts from its own root; `protospec run dns` judges the embedded servers"})
		<-ctx.Done()
		return nil
	case opts.Params["resolver"] == "true":
		var root netip.AddrPort
		serverPort := uint16(53)
		if up := opts.Params[fixture.ParamUpstream]; up != "" {
			root, err = netip.ParseAddrPort(up)
			if err != nil {
				return fmt.Errorf("upstream %q: %w", up, err)
			}
			serverPort = root.Port()
		} else {
			h, err := startHierarchy(0)
			if err != nil {
				return err
			}
			defer h.Close()
			root, serverPort = h.Root, h.Port
		}
		pc, ln, err := listenBoth(addr)
		if err != nil {
			return err
		}
		r := &refdns.Resolver{RootHints: []netip.AddrPort{root}, ServerPort: serverPort, AccessLog: opts.accessLogger()}
		if err := dnsResolverParams(r, opts.Params); err != nil {
			pc.Close()
			ln.Close()
			return err
		}
		defer r.Close()
		fmt.Fprintf(log, "resolver on udp://%s and tcp://%s, root %s\n", pc.LocalAddr(), ln.Addr(), root)
		fmt.Fprintf(log, "try: dig @%s -p %d %s\n", host, ln.Addr().(*net.TCPAddr).Port, refdns.GaiaName)
		opts.serving(Serving{Untestable: "the resolver specs need a resolver whose root is the suite's own fake root, which each run starts anew; `protospec run dns` judges the embedded resolver that way"})
		return serveUntil(ctx, func() error { return r.ServeUDP(pc) }, func() error { return r.ServeTCP(ln) }, r.Close)
	default:
		zones, err := loadFixtureZones()
		if err != nil {
			return err
		}
		pc, ln, err := listenBoth(addr)
		if err != nil {
			return err
		}
		s, err := dnsAuthFromParams(zones, opts.Params)
		if err != nil {
			pc.Close()
			ln.Close()
			return err
		}
		s.AccessLog = opts.accessLogger()
		fmt.Fprintf(log, "authoritative for test. and 0.0.127.in-addr.arpa. on udp://%s and tcp://%s\n", pc.LocalAddr(), ln.Addr())
		fmt.Fprintf(log, "try: dig @%s -p %d www.test A\n", host, ln.Addr().(*net.TCPAddr).Port)
		sv := Serving{Endpoints: map[string]targets.Endpoint{
			"dns/udp": {Network: "udp", Addr: pc.LocalAddr().String()},
			"dns/tcp": {Network: "tcp", Addr: ln.Addr().String()},
		}}
		if refusesOutsider(s.AllowTransfer) {
			sv.Features = append(sv.Features, fixture.FeatureAXFRACL)
		}
		if s.TSIGKeys[fixture.TSIGKeyName] == fixture.TSIGKeySecret {
			sv.Features = append(sv.Features, fixture.FeatureTSIG)
		}
		opts.serving(sv)
		return serveUntil(ctx, func() error { return s.ServeUDP(pc) }, func() error { return s.ServeTCP(ln) }, s.Close)
	}
}

// refusesOutsider reports whether an allow-list is the suite's: it leaves
// out the outsider and lets 127.0.0.1 in.
func refusesOutsider(allow []netip.Prefix) bool {
	in := func(a netip.Addr) bool {
		for _, p := range allow {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return !in(dnsOutsider) && in(netip.MustParseAddr("127.0.0.1"))
}

// serveUntil runs both serve loops until ctx is done or one fails.
func serveUntil(ctx context.Context, udp, tcp func() error, closeFn func() error) error {
	errc := make(chan error, 2)
	go func() { errc <- udp() }()
	go func() { errc <- tcp() }()
	select {
	case <-ctx.Done():
		closeFn()
		return nil
	case err := <-errc:
		closeFn()
		return err
	}
}

// dnsAllow returns serve's allow-list: param allow, else the suite's
// (loopback except the outsider), the one the embedded reference uses.
func dnsAllow(params map[string]string) ([]netip.Prefix, error) {
	v, ok := params[fixture.ParamAllow]
	if !ok {
		return loopbackExcept(dnsOutsider), nil
	}
	var ps []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%s %q: %q is neither a prefix nor an address", fixture.ParamAllow, v, f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		ps = append(ps, p.Masked())
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%s %q: no prefix", fixture.ParamAllow, v)
	}
	return ps, nil
}

// dnsTCPParams are the TCP settings shared by both servers.
type dnsTCPParams struct {
	maxConns, perClient int
	idle, lifetime      time.Duration
	rateLimit           int
}

func parseDNSTCP(params map[string]string) (dnsTCPParams, error) {
	var t dnsTCPParams
	ints := []struct {
		name string
		dst  *int
	}{
		{fixture.ParamMaxTCPConns, &t.maxConns},
		{fixture.ParamMaxTCPConnsPerClient, &t.perClient},
		{fixture.ParamRateLimit, &t.rateLimit},
	}
	for _, p := range ints {
		if v, ok := params[p.name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1<<20 || n == 0 && p.name != fixture.ParamRateLimit {
				return t, fmt.Errorf("%s %q: want a positive number", p.name, v)
			}
			*p.dst = n
		}
	}
	durs := []struct {
		name string
		dst  *time.Duration
	}{
		{fixture.ParamTCPIdleTimeout, &t.idle},
		{fixture.ParamTCPMaxLifetime, &t.lifetime},
	}
	for _, p := range durs {
		if v, ok := params[p.name]; ok {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return t, fmt.Errorf("%s %q: want a positive duration (10s, 2m)", p.name, v)
			}
			*p.dst = d
		}
	}
	return t, nil
}

// dnsAuthFromParams builds serve's authoritative server from params.
func dnsAuthFromParams(zones []*refdns.Zone, params map[string]string) (*refdns.AuthServer, error) {
	allow, err := dnsAllow(params)
	if err != nil {
		return nil, err
	}
	t, err := parseDNSTCP(params)
	if err != nil {
		return nil, err
	}
	s := &refdns.AuthServer{Zones: zones, AllowTransfer: allow, RateLimit: t.rateLimit,
		MaxTCPConns: t.maxConns, MaxTCPConnsPerClient: t.perClient, TCPIdleTimeout: t.idle, TCPMaxLifetime: t.lifetime,
		NSID: []byte(fixture.DefaultNSID)}
	if v, ok := params[fixture.ParamNSID]; ok {
		if len(v) > 255 {
			return nil, fmt.Errorf("%s: at most 255 bytes", fixture.ParamNSID)
		}
		s.NSID = []byte(v)
	}
	if v := params[fixture.ParamUDPWorkers]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return nil, fmt.Errorf("udp-workers %q: want a number of goroutines from 1 to 64", v)
		}
		s.UDPWorkers = n
	}
	// The suite's key by default, as the embedded reference has it;
	// "none" turns TSIG off.
	s.TSIGKeys = map[string]string{fixture.TSIGKeyName: fixture.TSIGKeySecret}
	if v := params[fixture.ParamTSIGKey]; v == "none" {
		s.TSIGKeys = nil
	} else if v != "" {
		keys, err := parseTSIGKeys(v)
		if err != nil {
			return nil, err
		}
		s.TSIGKeys = keys
	}
	return s, nil
}

// parseTSIGKeys reads tsig-key's NAME:BASE64SECRET,... into the
// AuthServer's map of lower-case fully qualified key names to secrets.
func parseTSIGKeys(v string) (map[string]string, error) {
	keys := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		name, secret, ok := strings.Cut(strings.TrimSpace(kv), ":")
		if !ok || name == "" || secret == "" {
			return nil, fmt.Errorf("%s %q: want NAME:BASE64SECRET", fixture.ParamTSIGKey, kv)
		}
		if _, err := base64.StdEncoding.DecodeString(secret); err != nil {
			return nil, fmt.Errorf("%s %q: the secret is not base64: %v", fixture.ParamTSIGKey, name, err)
		}
		if _, ok := mdns.IsDomainName(name); !ok {
			return nil, fmt.Errorf("%s %q: not a domain name", fixture.ParamTSIGKey, name)
		}
		keys[strings.ToLower(mdns.Fqdn(name))] = secret
	}
	return keys, nil
}

// dnsResolverParams sets serve's resolver from params.
func dnsResolverParams(r *refdns.Resolver, params map[string]string) error {
	allow, err := dnsAllow(params)
	if err != nil {
		return err
	}
	t, err := parseDNSTCP(params)
	if err != nil {
		return err
	}
	r.AllowClients, r.RateLimit = allow, t.rateLimit
	r.MaxTCPConns, r.MaxTCPConnsPerClient, r.TCPIdleTimeout, r.TCPMaxLifetime = t.maxConns, t.perClient, t.idle, t.lifetime
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{fixture.ParamMaxInflightPerClient, &r.MaxInflightPerClient},
		{fixture.ParamMaxCacheEntries, &r.MaxCacheEntries},
	} {
		if v, ok := params[p.name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1<<24 {
				return fmt.Errorf("%s %q: want a positive number", p.name, v)
			}
			*p.dst = n
		}
	}
	r.ServeStale = params[fixture.ParamServeStale] != "false"
	r.QNameMin = params[fixture.ParamQNameMin] != "false"
	return nil
}

// fixedSourcePort parses query-source-port: a port, or "fixed" for a free
// one picked now.
func fixedSourcePort(p string) (uint16, error) {
	if p != "fixed" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("want a port or \"fixed\"")
		}
		return uint16(n), nil
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port), nil
}
