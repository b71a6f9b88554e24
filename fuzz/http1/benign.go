package http1fuzz

import (
	"embed"
	"io/fs"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/http1"
)

// benignFS holds the known, accepted differences between HTTP/1.1 servers
// for differential fuzzing: rfc.txt for any pair, and one file per server
// family (a launcher's name). `protospec fuzz http1 --benign builtin` uses
// rfc.txt and those of the run's targets; `--benign nginx` one set.
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
