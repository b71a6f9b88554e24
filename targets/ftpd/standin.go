package ftpd

import (
	"os"
	"path/filepath"
)

// Stand-ins for the contract of internal/ftp.
const (
	ServiceTCP = "ftp/tcp"
	ServiceTLS = "ftp/tls"
	UploadDir  = "upload"
)

// Account is a login of the fixture.
type Account struct{ Name, Password string }

var (
	User = Account{"bob", "bob"}
	Anon = Account{"anonymous", ""}
)

// WriteFixture writes the fixture tree into dir.
func WriteFixture(dir string) error {
	for _, d := range []string{"pub", UploadDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "pub", "readme.txt"), []byte("hello\n"), 0o644)
}

const (
	Protocol    = "ftp"
	FeatureIPv6 = "ftp/ipv6"
)

// Features are offered by every FTP launcher.
var Features = []string{}

const (
	PublicFile    = "pub/readme.txt"
	PublicContent = "hello\n"
)
