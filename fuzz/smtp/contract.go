package smtpfuzz

import contract "github.com/protospec/protospec/internal/smtp"

// The contract's names the model, the battery and the harness use.
const (
	contractName  = contract.Name
	smtpService   = contract.ServiceTCP
	fixtureFrom   = contract.AddressAlice
	fixtureTo     = contract.AddressBob
	fixtureAlice  = contract.AddressAlice
	fixturePost   = contract.PostmasterBob
	fixtureNobody = contract.UnknownUserBob
	foreignDomain = contract.ForeignDomain
	dirMaildir    = contract.DirMaildir
)
