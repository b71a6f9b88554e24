// Package nsd launches nsd as a protospec target.
package nsd
