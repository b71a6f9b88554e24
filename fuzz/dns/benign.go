package dnsfuzz

import (
	"embed"
	"io/fs"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/dns"
)

// benignFS holds the known, accepted differences between DNS servers for
// differential fuzzing: rfc.txt for any pair (`protospec fuzz dns --benign
// builtin`, or `--benign rfc`).
//
//go:embed benign/*.txt
var benignFS embed.FS

func init() {
	sub, err := fs.Sub(benignFS, "benign")
	if err != nil {
		panic(err)
	}
	engine.RegisterBenign(contract.Name, sub)
}
