package ftp

// contractName is the contract's Name.
const contractName = "ftp"

func ports() []uint16 { return []uint16{21} }
