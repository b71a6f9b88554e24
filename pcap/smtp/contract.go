package smtp

import (
	"strings"

	contract "github.com/protospec/protospec/internal/smtp"
)

// contractName is the contract's Name.
const contractName = contract.Name

// service is the mail transfer service without its transport ("smtp" of
// "smtp/tcp"), where replayed flows go.
var service = strings.TrimSuffix(contract.ServiceTCP, "/tcp")

// submissionPort is the message submission port (RFC 6409), plain lines
// like port 25 (STARTTLS may follow); the contract has no service for it
// yet, but its flows are SMTP all the same. Port 465 (implicit TLS) is
// TLS records, not lines: it is not dissected.
const submissionPort = 587

// ports are the well-known ports of SMTP's plain lines: the contract's
// smtp/tcp (25) and submission.
func ports() []uint16 {
	var out []uint16
	for _, s := range contract.Contract.Services {
		if s.Name+"/"+s.Transport == contract.ServiceTCP && s.Port != 0 {
			out = append(out, s.Port)
		}
	}
	return append(out, submissionPort)
}
