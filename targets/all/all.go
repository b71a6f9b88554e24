// Package all registers every launcher protospec ships: import it for its
// side effect where targets are opened by name.
package all

import (
	// Launchers register themselves in init.
	_ "github.com/protospec/protospec/targets/apache2"
	_ "github.com/protospec/protospec/targets/bind9"
	_ "github.com/protospec/protospec/targets/bind9-resolver"
	_ "github.com/protospec/protospec/targets/caddy"
	_ "github.com/protospec/protospec/targets/dnsdist"
	_ "github.com/protospec/protospec/targets/dnsmasq"
	_ "github.com/protospec/protospec/targets/exim4"
	_ "github.com/protospec/protospec/targets/gohttp"
	_ "github.com/protospec/protospec/targets/h2o"
	_ "github.com/protospec/protospec/targets/knot"
	_ "github.com/protospec/protospec/targets/knot-resolver"
	_ "github.com/protospec/protospec/targets/lighttpd"
	_ "github.com/protospec/protospec/targets/nginx"
	_ "github.com/protospec/protospec/targets/node"
	_ "github.com/protospec/protospec/targets/nsd"
	_ "github.com/protospec/protospec/targets/opensmtpd"
	_ "github.com/protospec/protospec/targets/pdns"
	_ "github.com/protospec/protospec/targets/pdns-recursor"
	_ "github.com/protospec/protospec/targets/postfix"
	_ "github.com/protospec/protospec/targets/proftpd"
	_ "github.com/protospec/protospec/targets/pureftpd"
	_ "github.com/protospec/protospec/targets/pyhttp"
	_ "github.com/protospec/protospec/targets/reference"
	_ "github.com/protospec/protospec/targets/unbound"
	_ "github.com/protospec/protospec/targets/vsftpd"
	_ "github.com/protospec/protospec/targets/xinetd"
	_ "github.com/protospec/protospec/targets/yadifa"
)
