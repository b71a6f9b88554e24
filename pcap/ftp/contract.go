package ftp

// contractName is the contract's Name.
const contractName = "ftp"

// controlService is the contract's control-connection service.
const controlService = "ftp"

func ports() []uint16 { return []uint16{21} }
