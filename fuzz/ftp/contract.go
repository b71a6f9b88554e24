package ftpfuzz

import contract "github.com/protospec/protospec/internal/ftp"

// The contract's names the model, the battery and the harness use.
const (
	contractName  = contract.Name
	ftpService    = contract.ServiceTCP
	fixtureUser   = contract.UserBob
	fixturePass   = contract.PasswordBob
	fixtureFile   = contract.HelloFile
	fixtureUpload = contract.UploadDir
)
