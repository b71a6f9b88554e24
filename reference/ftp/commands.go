package ftp

import (
	"crypto/tls"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

func init() {
	handlers = map[string]handler{
		"USER": {fn: (*session).cmdUSER, arg: argRequired},
		"PASS": {fn: (*session).cmdPASS, arg: argOptional},
		"ACCT": {fn: (*session).cmdACCT, arg: argRequired},
		"CWD":  {fn: (*session).cmdCWD, arg: argRequired, login: true},
		"XCWD": {fn: (*session).cmdCWD, arg: argRequired, login: true},
		"CDUP": {fn: (*session).cmdCDUP, arg: argNone, login: true},
		"XCUP": {fn: (*session).cmdCDUP, arg: argNone, login: true},
		"PWD":  {fn: (*session).cmdPWD, arg: argNone, login: true},
		"XPWD": {fn: (*session).cmdPWD, arg: argNone, login: true},
		"MKD":  {fn: (*session).cmdMKD, arg: argRequired, login: true},
		"XMKD": {fn: (*session).cmdMKD, arg: argRequired, login: true},
		"RMD":  {fn: (*session).cmdRMD, arg: argRequired, login: true},
		"XRMD": {fn: (*session).cmdRMD, arg: argRequired, login: true},
		"DELE": {fn: (*session).cmdDELE, arg: argRequired, login: true},
		"RNFR": {fn: (*session).cmdRNFR, arg: argRequired, login: true},
		"RNTO": {fn: (*session).cmdRNTO, arg: argRequired, login: true},
		"LIST": {fn: (*session).cmdLIST, arg: argOptional, login: true},
		"NLST": {fn: (*session).cmdNLST, arg: argOptional, login: true},
		"MLSD": {fn: (*session).cmdMLSD, arg: argOptional, login: true},
		"MLST": {fn: (*session).cmdMLST, arg: argOptional, login: true},
		"RETR": {fn: (*session).cmdRETR, arg: argRequired, login: true},
		"STOR": {fn: (*session).cmdSTOR, arg: argRequired, login: true},
		"STOU": {fn: (*session).cmdSTOU, arg: argNone, login: true},
		"APPE": {fn: (*session).cmdAPPE, arg: argRequired, login: true},
		"REST": {fn: (*session).cmdREST, arg: argRequired, login: true},
		"ABOR": {fn: (*session).cmdABOR, arg: argNone, duringTransfer: true},
		"TYPE": {fn: (*session).cmdTYPE, arg: argRequired, login: true},
		"MODE": {fn: (*session).cmdMODE, arg: argRequired, login: true},
		"STRU": {fn: (*session).cmdSTRU, arg: argRequired, login: true},
		"PORT": {fn: (*session).cmdPORT, arg: argRequired, login: true},
		"EPRT": {fn: (*session).cmdEPRT, arg: argRequired, login: true},
		"PASV": {fn: (*session).cmdPASV, arg: argNone, login: true},
		"EPSV": {fn: (*session).cmdEPSV, arg: argOptional, login: true},
		"SYST": {fn: (*session).cmdSYST, arg: argNone},
		"STAT": {fn: (*session).cmdSTAT, arg: argOptional, duringTransfer: true},
		"HELP": {fn: (*session).cmdHELP, arg: argOptional},
		"NOOP": {fn: (*session).cmdNOOP, arg: argNone, duringTransfer: true},
		"QUIT": {fn: (*session).cmdQUIT, arg: argNone, duringTransfer: true},
		"REIN": {fn: (*session).cmdREIN, arg: argNone},
		"ALLO": {fn: (*session).cmdALLO, arg: argRequired, login: true},
		"SITE": {fn: (*session).cmdSITE, arg: argRequired, login: true},
		"FEAT": {fn: (*session).cmdFEAT, arg: argNone},
		"OPTS": {fn: (*session).cmdOPTS, arg: argRequired},
		"MDTM": {fn: (*session).cmdMDTM, arg: argRequired, login: true},
		"SIZE": {fn: (*session).cmdSIZE, arg: argRequired, login: true},
		"AUTH": {fn: (*session).cmdAUTH, arg: argRequired},
		"PBSZ": {fn: (*session).cmdPBSZ, arg: argRequired},
		"PROT": {fn: (*session).cmdPROT, arg: argRequired},
		"HOST": {fn: (*session).cmdHOST, arg: argRequired},
	}
}

func (ss *session) logout() {
	ss.loggedIn, ss.userGiven, ss.pendingUser = false, false, ""
	if ss.root != nil {
		ss.root.Close()
		ss.root = nil
	}
	ss.cwd, ss.rest, ss.rnfr = "/", 0, ""
}

func (ss *session) cmdUSER(name string) error {
	ss.logout()
	ss.pendingUser, ss.userGiven = name, true
	// RFC 2577 5: the same 331 for every name, so that USER tells no one
	// which names exist.
	if isAnonymous(name) {
		return ss.reply(331, "Anonymous login okay, send your e-mail address as password.")
	}
	return ss.reply(331, "User name okay, need password.")
}

func isAnonymous(name string) bool {
	n := strings.ToLower(name)
	return n == "anonymous" || n == "ftp"
}

func (ss *session) cmdPASS(pw string) error {
	// RFC 959 6: PASS follows USER; any other order is 503.
	if !ss.userGiven {
		return ss.reply(503, "Login with USER first.")
	}
	name := ss.pendingUser
	ss.userGiven, ss.pendingUser = false, ""
	for _, u := range ss.s.users() {
		if !strings.EqualFold(u.Name, name) && u.Name != name {
			continue
		}
		if !u.Anonymous && (u.Name != name || u.Password != pw) {
			break
		}
		root, err := openRoot(ss.s.home(u))
		if err != nil {
			return ss.reply(530, "Login incorrect: the home directory is unavailable.")
		}
		ss.root, ss.account, ss.loggedIn, ss.cwd, ss.failed = root, u, true, "/", 0
		if u.Anonymous {
			return ss.reply(230, "Anonymous user logged in, read only.")
		}
		return ss.reply(230, "User logged in, proceed.")
	}
	ss.failed++
	// RFC 2577 3: "the server limit the number of attempts that can be
	// made at sending a correct password", and delay after a failure.
	select {
	case <-time.After(ss.s.loginDelay()):
	case <-ss.done:
		return errClose
	}
	if ss.failed >= maxFailedLogins {
		ss.reply(421, "Too many failed logins, closing control connection.")
		return errClose
	}
	return ss.reply(530, "Login incorrect.")
}

func (ss *session) cmdACCT(string) error {
	if ss.loggedIn {
		return ss.reply(202, "ACCT not needed, superfluous at this site.")
	}
	return ss.reply(503, "Login with USER and PASS first.")
}

func (ss *session) cmdSYST(string) error { return ss.reply(215, "UNIX Type: L8") }
func (ss *session) cmdNOOP(string) error { return ss.reply(200, "NOOP okay.") }
func (ss *session) cmdALLO(string) error {
	return ss.reply(202, "ALLO not needed, superfluous at this site.")
}
func (ss *session) cmdSITE(string) error {
	return ss.reply(202, "SITE commands are not implemented, superfluous at this site.")
}

func (ss *session) cmdQUIT(string) error {
	// RFC 959 4.1.1: "If file transfer is in progress, the connection will
	// remain open for result response and the server will then close it."
	ss.waitTransfer()
	ss.reply(221, "Service closing control connection.")
	return errClose
}

func (ss *session) cmdREIN(string) error {
	if ss.tlsOn && ss.implicit == nil {
		// RFC 2228 REIN flushes the security state, which a TLS
		// connection cannot return to plain text in place.
		return ss.reply(502, "REIN is not implemented on a protected connection.")
	}
	ss.logout()
	ss.closeData()
	// REIN resets every parameter to its default: TYPE A (RFC 959
	// 4.1.1, 4.1.2).
	ss.typeA, ss.epsvAll, ss.hostSeen = true, false, false
	ss.pbsz, ss.protP = false, false
	return ss.reply(220, "Service ready for new user.")
}

func (ss *session) cmdTYPE(arg string) error {
	switch strings.ToUpper(arg) {
	case "A", "A N":
		ss.typeA = true
		return ss.reply(200, "Type set to A.")
	case "I", "L 8":
		ss.typeA = false
		return ss.reply(200, "Type set to I.")
	case "E", "E N", "A T", "A C", "E T", "E C":
		return ss.reply(504, "Only TYPE A (non-print) and I are implemented.")
	}
	if strings.HasPrefix(strings.ToUpper(arg), "L ") {
		return ss.reply(504, "Only TYPE L 8 is implemented.")
	}
	return ss.reply(501, "Syntax error in TYPE.")
}

func (ss *session) cmdMODE(arg string) error {
	switch strings.ToUpper(arg) {
	case "S":
		return ss.reply(200, "Mode set to S.")
	case "B", "C":
		return ss.reply(504, "Only MODE S is implemented.")
	}
	return ss.reply(501, "Syntax error in MODE.")
}

func (ss *session) cmdSTRU(arg string) error {
	switch strings.ToUpper(arg) {
	case "F":
		return ss.reply(200, "Structure set to F.")
	case "R", "P":
		return ss.reply(504, "Only STRU F is implemented.")
	}
	return ss.reply(501, "Syntax error in STRU.")
}

func (ss *session) cmdREST(arg string) error {
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(arg, "+") {
		return ss.reply(501, "REST needs a byte count (RFC 3659 5).")
	}
	ss.rest = n
	return ss.reply(350, "Restarting at "+arg+". Send STORE or RETRIEVE to initiate transfer.")
}

func (ss *session) cmdFEAT(string) error {
	lines := []string{"Extensions supported:", " EPRT", " EPSV", " MDTM", " SIZE", " REST STREAM",
		" MLST " + ss.factList(true), " UTF8", " TVFS", " HOST"}
	if ss.tlsConfig() != nil {
		lines = append(lines, " AUTH TLS", " PBSZ", " PROT")
	}
	// RFC 2389 3.2: the response is multi-line, each feature line
	// starting with SP, ending with "211 End".
	return ss.reply(211, append(lines, "End")...)
}

// allFacts are the MLSx facts offered, in order.
var allFacts = []string{"type", "size", "modify", "perm"}

// factList is the FEAT form ("type*;size*;") or the OPTS form.
func (ss *session) factList(feat bool) string {
	var b strings.Builder
	for _, f := range allFacts {
		b.WriteString(f)
		if feat && ss.mlstFacts[f] {
			b.WriteByte('*')
		}
		if !feat && !ss.mlstFacts[f] {
			b.Reset()
			continue
		}
		b.WriteByte(';')
	}
	return b.String()
}

func (ss *session) cmdOPTS(arg string) error {
	name, rest, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(name) {
	case "UTF8":
		// RFC 2640 is always on: paths are UTF-8.
		if strings.EqualFold(rest, "ON") || rest == "" {
			return ss.reply(200, "UTF8 is always on.")
		}
		return ss.reply(504, "UTF8 cannot be turned off.")
	case "MLST":
		// RFC 3659 7.9: the facts the client wants, the unknown ones
		// ignored; the reply lists those now selected.
		want := map[string]bool{}
		for _, f := range strings.Split(rest, ";") {
			want[strings.ToLower(f)] = true
		}
		for _, f := range allFacts {
			ss.mlstFacts[f] = want[f]
		}
		var sel []string
		for _, f := range allFacts {
			if want[f] {
				sel = append(sel, f+";")
			}
		}
		return ss.reply(200, "MLST OPTS "+strings.Join(sel, ""))
	}
	return ss.reply(501, "OPTS: no such option.")
}

func (ss *session) cmdHELP(arg string) error {
	if arg != "" {
		v := strings.ToUpper(arg)
		if _, ok := handlers[v]; ok {
			return ss.reply(214, "Syntax: "+v+" (see RFC 959).")
		}
		return ss.reply(501, "HELP: unknown command "+v+".")
	}
	verbs := make([]string, 0, len(handlers))
	for v := range handlers {
		verbs = append(verbs, v)
	}
	sortStrings(verbs)
	lines := []string{"The following commands are recognized:"}
	for i := 0; i < len(verbs); i += 8 {
		lines = append(lines, " "+strings.Join(verbs[i:min(i+8, len(verbs))], " "))
	}
	return ss.reply(214, append(lines, "Help OK.")...)
}

func (ss *session) cmdAUTH(arg string) error {
	if ss.tlsConfig() == nil {
		return ss.reply(502, "AUTH not implemented: no certificate.")
	}
	if ss.tlsOn {
		// RFC 4217 4: a second AUTH on a protected connection.
		return ss.reply(503, "The control connection is already protected.")
	}
	switch strings.ToUpper(arg) {
	case "TLS", "TLS-C":
	default:
		return ss.reply(504, "Only AUTH TLS is implemented.")
	}
	if ss.br.Buffered() > 0 {
		// A client must wait for 234 before the handshake.
		ss.reply(503, "Commands sent after AUTH before its reply.")
		return errClose
	}
	if err := ss.reply(234, "AUTH TLS okay, proceed with the handshake."); err != nil {
		return err
	}
	tc := tls.Server(ss.raw, ss.tlsConfig())
	ss.raw.SetDeadline(time.Now().Add(ss.s.dataWait()))
	if err := tc.Handshake(); err != nil {
		return errClose
	}
	ss.raw.SetDeadline(time.Time{})
	ss.c, ss.tlsOn = tc, true
	ss.br.Reset(tc)
	// RFC 4217 4: after AUTH the user must log in (again).
	ss.logout()
	return nil
}

func (ss *session) cmdPBSZ(arg string) error {
	if !ss.tlsOn {
		return ss.reply(503, "PBSZ needs a protected control connection (AUTH TLS).")
	}
	if _, err := strconv.ParseUint(arg, 10, 32); err != nil {
		return ss.reply(501, "PBSZ needs a decimal buffer size.")
	}
	ss.pbsz = true
	// RFC 4217 8: "PBSZ 0" is the only size for TLS.
	return ss.reply(200, "PBSZ=0")
}

func (ss *session) cmdPROT(arg string) error {
	if !ss.pbsz {
		// RFC 2228: PROT before PBSZ is 503.
		return ss.reply(503, "PROT needs PBSZ first.")
	}
	switch strings.ToUpper(arg) {
	case "C":
		ss.protP = false
		return ss.reply(200, "Protection level set to Clear.")
	case "P":
		ss.protP = true
		return ss.reply(200, "Protection level set to Private.")
	case "S", "E":
		return ss.reply(536, "Only PROT C and P are implemented.")
	}
	return ss.reply(504, "PROT: unknown protection level.")
}

func (ss *session) cmdHOST(arg string) error {
	// RFC 7151 3: HOST comes before USER; after login it is 503.
	if ss.loggedIn || ss.userGiven {
		return ss.reply(503, "HOST must come before USER.")
	}
	h := strings.ToLower(arg)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); (err == nil && a.IsLoopback()) || h == "localhost" {
		ss.hostSeen = true
		return ss.reply(220, "Host "+arg+" selected.")
	}
	return ss.reply(504, "Unknown host "+arg+".")
}

// dataAddrAllowed is RFC 2577 4's bounce defence: "the server SHOULD
// NOT open a data connection to an IP address that is not the same as the
// IP address of the client", nor to a privileged port.
func (ss *session) dataAddrAllowed(ap netip.AddrPort) bool {
	return ap.Addr().Unmap() == ss.peer && ap.Port() >= 1024
}

func (ss *session) cmdPORT(arg string) error {
	if ss.epsvAll {
		// RFC 2428 4: after EPSV ALL, "the server MUST reject all data
		// connection setup commands other than EPSV".
		return ss.reply(503, "EPSV ALL given: use EPSV.")
	}
	ap, err := ftpwireParseHostPort(arg)
	if err != nil {
		return ss.reply(501, "Syntax error in PORT: want h1,h2,h3,h4,p1,p2.")
	}
	if !ss.dataAddrAllowed(ap) {
		return ss.reply(504, "PORT refused: data connections go to your own address and a port above 1023 only.")
	}
	ss.closeData()
	ss.port = ap
	return ss.reply(200, "PORT command successful.")
}

func (ss *session) cmdEPRT(arg string) error {
	if ss.epsvAll {
		return ss.reply(503, "EPSV ALL given: use EPSV.")
	}
	ap, err := ftpwireParseEPRT(arg)
	if err != nil {
		// RFC 2428 2: an unsupported network protocol is 522.
		if len(arg) > 2 && arg[1] != '1' && arg[1] != '2' && arg[2] == arg[0] {
			return ss.reply(522, "Network protocol not supported, use (1,2)")
		}
		return ss.reply(501, "Syntax error in EPRT.")
	}
	if ap.Addr().Is4() != ss.peer.Is4() {
		return ss.reply(522, "Network protocol not supported, use ("+ss.af()+")")
	}
	if !ss.dataAddrAllowed(ap) {
		return ss.reply(504, "EPRT refused: data connections go to your own address and a port above 1023 only.")
	}
	ss.closeData()
	ss.port = ap
	return ss.reply(200, "EPRT command successful.")
}

// af is the RFC 2428 network protocol number of the control connection.
func (ss *session) af() string {
	if ss.local.Is4() {
		return "1"
	}
	return "2"
}

func (ss *session) cmdPASV(string) error {
	if ss.epsvAll {
		return ss.reply(503, "EPSV ALL given: use EPSV.")
	}
	if !ss.local.Is4() {
		return ss.reply(501, "PASV is for IPv4 only: use EPSV.")
	}
	port, err := ss.listenPassive()
	if err != nil {
		return ss.reply(425, "Cannot open a passive port.")
	}
	return ss.reply(227, ftpwireFormatPASV(netip.AddrPortFrom(ss.local, uint16(port))))
}

func (ss *session) cmdEPSV(arg string) error {
	switch strings.ToUpper(arg) {
	case "":
	case "ALL":
		ss.epsvAll = true
		return ss.reply(200, "EPSV ALL okay.")
	case "1", "2":
		if arg != ss.af() {
			return ss.reply(522, "Network protocol not supported, use ("+ss.af()+")")
		}
	default:
		return ss.reply(522, "Network protocol not supported, use ("+ss.af()+")")
	}
	port, err := ss.listenPassive()
	if err != nil {
		return ss.reply(425, "Cannot open a passive port.")
	}
	return ss.reply(229, ftpwireFormatEPSV(port))
}

// listenPassive opens a passive listener on the control connection's
// local address, in the configured range, closing any earlier one.
func (ss *session) listenPassive() (int, error) {
	ss.closeData()
	host := ss.local.String()
	lo, hi := ss.s.PasvMin, ss.s.PasvMax
	if lo <= 0 || hi < lo {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		ss.setPassive(l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	n := hi - lo + 1
	start := int(time.Now().UnixNano() % int64(n))
	var last error
	for i := 0; i < n; i++ {
		p := lo + (start+i)%n
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			ss.setPassive(l)
			return p, nil
		}
		last = err
	}
	return 0, last
}

func (ss *session) setPassive(l net.Listener) {
	ss.xmu.Lock()
	ss.pasv = l
	ss.xmu.Unlock()
}
