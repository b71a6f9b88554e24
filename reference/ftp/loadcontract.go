package ftp

import contract "github.com/protospec/protospec/internal/ftp"

// The contract's names the load client uses: it logs in as the fixture's
// user and retrieves its 64 KiB file by default.
const (
	loadContractName = contract.Name
	loadFixtureUser  = contract.UserBob
	loadFixturePass  = contract.PasswordBob
	loadFixtureFile  = contract.BinaryFile
	loadService      = contract.ServiceTCP
)
