package ftp

import (
	"strings"

	contract "github.com/protospec/protospec/internal/ftp"
)

// contractName is the contract's Name.
const contractName = contract.Name

// controlService is the control connection's service without its
// transport ("ftp" of "ftp/tcp"), where replayed flows go.
var controlService = strings.TrimSuffix(contract.ServiceTCP, "/tcp")

// ports are the well-known ports of the plain control connection (21):
// the implicit-TLS port's bytes are TLS records, not lines.
func ports() []uint16 {
	var out []uint16
	for _, s := range contract.Contract.Services {
		if s.Name+"/"+s.Transport == contract.ServiceTCP && s.Port != 0 {
			out = append(out, s.Port)
		}
	}
	return out
}
