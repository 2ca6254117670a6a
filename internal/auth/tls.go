package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Subject OUs that give a client certificate its role, and the DNS name every coordinator
// certificate carries.
const (
	OUCoordinator = "tokenmill-coordinator"
	OUWorker      = "tokenmill-worker"
	// ServerName is the name clients verify a coordinator's certificate against (its DNS
	// SAN), whatever address they dialed: coordinators are found by gossip, by IP.
	ServerName = "coordinator.tokenmill"
)

// Role is what a caller is.
type Role int

// Roles.
const (
	// RoleNone: no credential (or one that names no role).
	RoleNone Role = iota
	// RolePerson: a person, through the CLI.
	RolePerson
	// RoleWorker: a worker.
	RoleWorker
	// RoleCoordinator: another coordinator.
	RoleCoordinator
)

func (r Role) String() string {
	switch r {
	case RolePerson:
		return "person"
	case RoleWorker:
		return "worker"
	case RoleCoordinator:
		return "coordinator"
	}
	return "none"
}

func parseRole(s string) Role {
	for _, r := range []Role{RolePerson, RoleWorker, RoleCoordinator} {
		if r.String() == s {
			return r
		}
	}
	return RoleNone
}

// RoleOf returns the role a verified client certificate carries: its Subject OU
// (OUCoordinator, OUWorker), else a person.
func RoleOf(cert *x509.Certificate) Role {
	switch {
	case slices.Contains(cert.Subject.OrganizationalUnit, OUCoordinator):
		return RoleCoordinator
	case slices.Contains(cert.Subject.OrganizationalUnit, OUWorker):
		return RoleWorker
	}
	return RolePerson
}

// TLSFiles name a node's or the CLI's certificate, its key and the CA certificates that
// sign every certificate of the cluster (PEM files). All three or none.
type TLSFiles struct {
	Cert, Key, CA string
}

// Enabled says any of the files is given.
func (f TLSFiles) Enabled() bool { return f.Cert != "" || f.Key != "" || f.CA != "" }

// TLS is a loaded certificate and CA: the source of every TLS configuration of a node.
type TLS struct {
	cert tls.Certificate
	leaf *x509.Certificate
	cas  *x509.CertPool
}

// LoadTLS reads the files; a missing one, when another is given, is an error naming the flag.
func LoadTLS(f TLSFiles) (*TLS, error) {
	var missing []string
	for _, m := range []struct{ flag, v string }{{"--tls-cert", f.Cert}, {"--tls-key", f.Key}, {"--tls-ca", f.CA}} {
		if m.v == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tls: missing %v: TLS needs a certificate, its key and the CA", missing)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: certificate %s with key %s: %w", f.Cert, f.Key, err)
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("tls: CA: %w", err)
	}
	cas := x509.NewCertPool()
	if !cas.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: CA %s holds no PEM certificate", f.CA)
	}
	return &TLS{cert: cert, leaf: cert.Leaf, cas: cas}, nil
}

// Role returns the role of the loaded certificate.
func (t *TLS) Role() Role { return RoleOf(t.leaf) }

// ServerConfig is the configuration of a coordinator's gRPC server: it presents the
// certificate and refuses, at the handshake, a client without a certificate the CA signed.
func (t *TLS) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{t.cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: t.cas}
}

// ClientConfig is the configuration of a client of coordinators (the CLI, a worker, a
// coordinator forwarding): it presents the certificate and accepts only a server
// certificate the CA signed for ServerName with the coordinator's OU.
func (t *TLS) ClientConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{t.cert},
		RootCAs: t.cas, ServerName: ServerName, VerifyConnection: requireRole(RoleCoordinator, "server")}
}

// PeerServerConfig is ServerConfig that also requires the client to be a coordinator: the
// raft transport's listener.
func (t *TLS) PeerServerConfig() *tls.Config {
	c := t.ServerConfig()
	c.VerifyConnection = requireRole(RoleCoordinator, "client")
	return c
}

// requireRole refuses a connection whose peer certificate is not of role r.
func requireRole(r Role, side string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the " + side + " sent no certificate")
		}
		if got := RoleOf(cs.PeerCertificates[0]); got != r {
			return fmt.Errorf("tls: the %s's certificate (%s) is a %s's, want a %s's (Subject OU %s)",
				side, cs.PeerCertificates[0].Subject, got, r, OUCoordinator)
		}
		return nil
	}
}
