// Package all registers every launcher protospec ships: import it for its
// side effect where targets are opened by name.
package all

import (
	// Launchers register themselves in init.
	_ "github.com/protospec/protospec/targets/reference"
	_ "github.com/protospec/protospec/targets/xinetd"
)
