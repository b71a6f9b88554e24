package smtp_test

import (
	"testing"

	"github.com/protospec/protospec/internal/loadgen"
	contract "github.com/protospec/protospec/internal/smtp"
	refsmtp "github.com/protospec/protospec/reference/smtp"
)

// TestLoadClientContract: the load client is registered under the
// contract's name, for its service, and sends to the fixture's bob by
// default (loadclient.go spells these names rather than import the
// contract, whose tests import this package).
func TestLoadClientContract(t *testing.T) {
	c, err := loadgen.LookupClient(contract.Name)
	if err != nil {
		t.Fatal(err)
	}
	if c.Service != contract.ServiceTCP {
		t.Errorf("service %q, want %q", c.Service, contract.ServiceTCP)
	}
	rcpt := ""
	for _, p := range c.Params {
		if p.Name == "rcpt" {
			rcpt = p.Default
		}
	}
	if rcpt != contract.AddressBob {
		t.Errorf("default recipient %q, want %q", rcpt, contract.AddressBob)
	}
	p, err := refsmtp.NewLoadClient(refsmtp.LoadClientOptions{Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != contract.Name {
		t.Errorf("load client named %q, want %q", p.Name(), contract.Name)
	}
}
