// Package nginx launches nginx as a protospec target.
package nginx
