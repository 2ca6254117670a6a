// Package authtest makes the certificates of a test cluster at run time with crypto/x509: a
// CA, certificates of coordinators, workers and people signed by it, and the same set from
// another CA that the cluster must refuse. Only tests import it.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/auth"
)

// PKI is a CA and the certificates it signed, as PEM files in a directory.
type PKI struct {
	// CA is the CA certificate's file.
	CA string
	// Coordinator, Worker and Person are certificates of those roles signed by the CA.
	Coordinator, Worker, Person auth.TLSFiles
	// Stranger is a person's certificate from another CA, which the cluster's CA did not
	// sign; StrangerCoordinator a coordinator's from that CA.
	Stranger, StrangerCoordinator auth.TLSFiles
}

// New writes a PKI under dir: certificates for 127.0.0.1, localhost and auth.ServerName.
func New(t testing.TB, dir string) *PKI {
	t.Helper()
	ca, caKey := newCA(t, "tokenmill test CA")
	other, otherKey := newCA(t, "another CA")
	p := &PKI{CA: writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)}
	p.Coordinator = issue(t, dir, "coordinator", ca, caKey, auth.OUCoordinator)
	p.Worker = issue(t, dir, "worker", ca, caKey, auth.OUWorker)
	p.Person = issue(t, dir, "person", ca, caKey, "people")
	p.Stranger = issue(t, dir, "stranger", other, otherKey, "people")
	p.StrangerCoordinator = issue(t, dir, "stranger-coordinator", other, otherKey, auth.OUCoordinator)
	for _, f := range []*auth.TLSFiles{&p.Coordinator, &p.Worker, &p.Person} {
		f.CA = p.CA
	}
	otherCA := writePEM(t, filepath.Join(dir, "other-ca.pem"), "CERTIFICATE", other.Raw)
	p.Stranger.CA, p.StrangerCoordinator.CA = otherCA, otherCA
	return p
}

// Load loads f, failing the test on an error.
func Load(t testing.TB, f auth.TLSFiles) *auth.TLS {
	t.Helper()
	c, err := auth.LoadTLS(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func issue(t testing.TB, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, ou string) auth.TLSFiles {
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: name, OrganizationalUnit: []string{ou}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost", auth.ServerName}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return auth.TLSFiles{Cert: writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der),
		Key: writePEM(t, filepath.Join(dir, name+"-key.pem"), "PRIVATE KEY", kb)}
}

func writePEM(t testing.TB, path, typ string, der []byte) string {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
