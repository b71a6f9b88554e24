// Package knot launches knot as a protospec target.
package knot
