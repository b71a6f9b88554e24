package ftp

// Placeholders until the contract lands.
const (
	loadContractName = "ftp"
	loadFixtureUser  = "bob"
	loadFixturePass  = "bob"
	loadFixtureFile  = "pub/readme.txt"
)
