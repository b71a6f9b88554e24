package ftpfuzz

// Placeholders until the contract lands.
const (
	contractName     = "ftp"
	fixtureUser      = "bob"
	fixturePass      = "bob"
	fixtureFile      = "pub/hello.txt"
	fixtureLargeFile = "pub/blob.bin"
	fixtureUpload    = "incoming"
)
