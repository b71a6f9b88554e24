// Package dnsmasq launches dnsmasq as a protospec target.
package dnsmasq
