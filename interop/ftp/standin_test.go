package ftp

import (
	"os"
	"path/filepath"
)

const ftpName = "ftp"

func writeFixture(dir string) error {
	for _, d := range []string{"pub", "upload"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "pub", "readme.txt"), []byte("hello\n"), 0o644)
}
