// Package apache2 launches apache2 as a protospec target.
package apache2
