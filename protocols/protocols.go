// Package protocols compiles in every protocol protospec ships: importing
// it registers each protocol's contract, reference, suite, pcap dissector,
// fuzz model and load client, and every launcher. It is the one file that
// names the protocols; adding a protocol adds its rooms' import lines here
// and nothing else outside the protocol's own folders.
//
//	import _ "github.com/protospec/protospec/protocols"
package protocols

import (
	// echo
	_ "github.com/protospec/protospec/fuzz/echo"
	_ "github.com/protospec/protospec/internal/echo"
	_ "github.com/protospec/protospec/pcap/echo"
	_ "github.com/protospec/protospec/reference/echo"
	_ "github.com/protospec/protospec/suites/echo"

	// http1
	_ "github.com/protospec/protospec/fuzz/http1"
	_ "github.com/protospec/protospec/internal/http1"
	_ "github.com/protospec/protospec/pcap/http1"
	_ "github.com/protospec/protospec/reference/http1"
	_ "github.com/protospec/protospec/suites/http1"

	// dns
	_ "github.com/protospec/protospec/fuzz/dns"
	_ "github.com/protospec/protospec/internal/dns"
	_ "github.com/protospec/protospec/pcap/dns"
	_ "github.com/protospec/protospec/reference/dns"
	_ "github.com/protospec/protospec/suites/dns"

	// ftp
	_ "github.com/protospec/protospec/fuzz/ftp"
	_ "github.com/protospec/protospec/internal/ftp"
	_ "github.com/protospec/protospec/pcap/ftp"
	_ "github.com/protospec/protospec/reference/ftp"
	_ "github.com/protospec/protospec/suites/ftp"

	// smtp
	_ "github.com/protospec/protospec/internal/smtp"
	_ "github.com/protospec/protospec/reference/smtp"
	_ "github.com/protospec/protospec/suites/smtp"

	// every launcher, the reference launcher among them
	_ "github.com/protospec/protospec/targets/all"
)
