package smtpfuzz

import (
	"embed"
	"io/fs"

	"github.com/protospec/protospec/fuzz/engine"
)

// benignFS holds the known, accepted differences between SMTP servers for
// differential fuzzing: rfc.txt for any pair (`protospec fuzz smtp
// --benign builtin`, or `--benign rfc`).
//
//go:embed benign/*.txt
var benignFS embed.FS

func init() {
	sub, err := fs.Sub(benignFS, "benign")
	if err != nil {
		panic(err)
	}
	engine.RegisterBenign(contractName, sub)
}
