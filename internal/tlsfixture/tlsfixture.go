// Package tlsfixture makes the per-run certificate authority of protospec
// and a leaf certificate for localhost, 127.0.0.1 and ::1 signed by it, in
// memory, so that the references and launched servers serve TLS and the
// suites verify them like any client would.
//
//	f, err := tlsfixture.New()
//	if err != nil { ... }
//	srv := &tls.Config{Certificates: []tls.Certificate{f.Leaf}}
//	cli := &tls.Config{RootCAs: f.Pool(), ServerName: "localhost"}
//	err = f.WriteDir("fixtures") // ca.pem, cert.pem, key.pem
package tlsfixture

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names WriteDir writes.
const (
	CAFile   = "ca.pem"   // the CA certificate, for --ca
	CertFile = "cert.pem" // the leaf certificate followed by the CA's
	KeyFile  = "key.pem"  // the leaf's private key (PKCS #8)
)

// Hosts are the names and addresses the leaf certificate is valid for.
var Hosts = []string{"localhost", "127.0.0.1", "::1"}

// Fixture is one CA and one leaf it signed.
type Fixture struct {
	// CA is the authority's certificate.
	CA *x509.Certificate
	// Leaf is the server certificate with its key and chain, ready for
	// tls.Config.Certificates.
	Leaf tls.Certificate
	// CAPEM, CertPEM and KeyPEM are the PEM encodings WriteDir writes.
	CAPEM, CertPEM, KeyPEM []byte
}

// validity bounds the certificates: a run lasts minutes, but an exported
// fixture may serve a user's server for a while.
const validity = 30 * 24 * time.Hour

// New makes a fresh ECDSA P-256 CA and a leaf for Hosts.
func New() (*Fixture, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"protospec"}, CommonName: "protospec run CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"protospec"}, CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range Hosts {
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: leaf: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: leaf: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: key: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	f := &Fixture{
		CA:      ca,
		Leaf:    tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key, Leaf: leaf},
		CAPEM:   caPEM,
		CertPEM: append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), caPEM...),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	return f, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// Pool is a certificate pool holding only the fixture's CA.
func (f *Fixture) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.CA)
	return p
}

// ServerConfig is a TLS server configuration that presents the leaf.
func (f *Fixture) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{f.Leaf}, MinVersion: tls.VersionTLS12}
}

// Paths are where WriteDir put the files.
type Paths struct {
	CA, Cert, Key string
}

// WriteDir writes ca.pem, cert.pem (leaf and CA) and key.pem into dir,
// creating it; the key is readable by its owner only.
func (f *Fixture) WriteDir(dir string) (Paths, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Paths{}, fmt.Errorf("tlsfixture: %w", err)
	}
	p := Paths{CA: filepath.Join(dir, CAFile), Cert: filepath.Join(dir, CertFile), Key: filepath.Join(dir, KeyFile)}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{p.CA, f.CAPEM, 0o644}, {p.Cert, f.CertPEM, 0o644}, {p.Key, f.KeyPEM, 0o600}} {
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return Paths{}, fmt.Errorf("tlsfixture: %w", err)
		}
	}
	return p, nil
}

// LoadPool reads a PEM file of CA certificates (--ca FILE).
func LoadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsfixture: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tlsfixture: %s holds no PEM certificate", path)
	}
	return p, nil
}

// LoadKeyPair reads a certificate chain and its key from PEM files
// (serve --cert/--key).
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsfixture: %w", err)
	}
	if len(c.Certificate) == 0 {
		return tls.Certificate{}, errors.New("tlsfixture: no certificate in " + certFile)
	}
	return c, nil
}
