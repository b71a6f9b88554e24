package ftpfuzz

// Placeholders until the contract lands.
const (
	contractName  = "ftp"
	fixtureUser   = "bob"
	fixturePass   = "bob"
	fixtureFile   = "pub/readme.txt"
	fixtureUpload = "upload"
)
