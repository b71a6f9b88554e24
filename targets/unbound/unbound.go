// Package unbound launches unbound as a protospec target.
package unbound
