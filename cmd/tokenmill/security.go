package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tokenmill/tokenmill/internal/auth"
	"google.golang.org/grpc"
)

// securityFlags are the security flags of coordinators and workers; each is off unless
// given.
type securityFlags struct {
	gossipKeyFile   *string
	tls             auth.TLSFiles
	cert, key, ca   *string
	tokenFile       *string // coordinators only
	workerTokenFile *string
	allowedRoots    *string
}

// addSecurityFlags registers the security flags under their own section; coordinator says
// the command is a coordinator's (which also takes --token-file).
func addSecurityFlags(c *command, coordinator bool) *securityFlags {
	f := &securityFlags{}
	c.section("security (each off unless given)", func() {
		f.gossipKeyFile = c.fs.String("gossip-key-file", "", "encrypt gossip with the key in `FILE` (base64 of 32 bytes, as 'tokenmill keygen' prints); every node needs the same")
		f.cert = c.fs.String("tls-cert", "", "mutual TLS: this node's certificate `FILE` (PEM), signed by --tls-ca")
		f.key = c.fs.String("tls-key", "", "mutual TLS: the certificate's key `FILE` (PEM)")
		f.ca = c.fs.String("tls-ca", "", "mutual TLS: the CA certificate `FILE` (PEM) that signs every certificate of the cluster")
		if coordinator {
			f.tokenFile = c.fs.String("token-file", "", "people's calls (job, members, operator) must carry the token in `FILE` (TOKENMILL_TOKEN or --token-file of the CLI)")
		}
		f.workerTokenFile = c.fs.String("worker-token-file", "", "without TLS, the workers' token `FILE`: workers send it, coordinators require it on the WorkerService")
		f.allowedRoots = c.fs.String("allowed-roots", "", "refuse jobs whose inputs or output resolve outside these directories `DIR[,DIR...]`")
	})
	return f
}

// nodeSecurity is what the security flags load.
type nodeSecurity struct {
	gossipKey, token, workerToken []byte
	tls                           *auth.TLS
	roots                         auth.Roots
}

// load reads the files the flags name; an error names the flag.
func (f *securityFlags) load() (s nodeSecurity, err error) {
	if *f.gossipKeyFile != "" {
		if s.gossipKey, err = auth.ReadGossipKey(*f.gossipKeyFile); err != nil {
			return s, fmt.Errorf("--gossip-key-file: %w", err)
		}
	}
	if files := (auth.TLSFiles{Cert: *f.cert, Key: *f.key, CA: *f.ca}); files.Enabled() {
		if s.tls, err = auth.LoadTLS(files); err != nil {
			return s, err
		}
	}
	if f.tokenFile != nil && *f.tokenFile != "" {
		if s.token, err = auth.ReadToken(*f.tokenFile); err != nil {
			return s, fmt.Errorf("--token-file: %w", err)
		}
	}
	if *f.workerTokenFile != "" {
		if s.workerToken, err = auth.ReadToken(*f.workerTokenFile); err != nil {
			return s, fmt.Errorf("--worker-token-file: %w", err)
		}
	}
	if *f.allowedRoots != "" {
		if s.roots, err = auth.NewRoots(strings.Split(*f.allowedRoots, ",")); err != nil {
			return s, fmt.Errorf("--allowed-roots: %w", err)
		}
	}
	return s, nil
}

// addClientSecurityFlags registers the CLI's credentials next to --addr: TLS files
// (default $TOKENMILL_TLS_CERT, $TOKENMILL_TLS_KEY, $TOKENMILL_TLS_CA) and --token-file
// (TOKENMILL_TOKEN holds the token itself).
func addClientSecurityFlags(c *command) {
	c.fs.String("tls-cert", os.Getenv("TOKENMILL_TLS_CERT"), "mutual TLS: your certificate `FILE` (PEM) (default $TOKENMILL_TLS_CERT)")
	c.fs.String("tls-key", os.Getenv("TOKENMILL_TLS_KEY"), "mutual TLS: its key `FILE` (PEM) (default $TOKENMILL_TLS_KEY)")
	c.fs.String("tls-ca", os.Getenv("TOKENMILL_TLS_CA"), "mutual TLS: the cluster's CA certificate `FILE` (PEM) (default $TOKENMILL_TLS_CA)")
	c.fs.String("token-file", "", "send the token in `FILE` (default: $TOKENMILL_TOKEN, the token itself)")
}

// clientDialOptions returns the credentials the CLI's flags (registered by
// addClientSecurityFlags) and TOKENMILL_TOKEN give, as dial options.
func clientDialOptions(c *command) ([]grpc.DialOption, error) {
	get := func(name string) string {
		if f := c.fs.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	var t *auth.TLS
	if files := (auth.TLSFiles{Cert: get("tls-cert"), Key: get("tls-key"), CA: get("tls-ca")}); files.Enabled() {
		var err error
		if t, err = auth.LoadTLS(files); err != nil {
			return nil, err
		}
	}
	var token []byte
	switch file := get("token-file"); {
	case file != "":
		var err error
		if token, err = auth.ReadToken(file); err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
	case strings.TrimSpace(os.Getenv("TOKENMILL_TOKEN")) != "":
		token = []byte(strings.TrimSpace(os.Getenv("TOKENMILL_TOKEN")))
	}
	return auth.DialOptions(t, token), nil
}

// cmdKeygen implements `tokenmill keygen`: prints a new gossip key.
func cmdKeygen(args []string, stdout, stderr io.Writer) int {
	c := newCommand("keygen", "", "Print a new gossip encryption key: base64 of 32 random bytes.", keygenHelp, stdout, stderr)
	if done, code := c.parse(args); done {
		return code
	}
	if c.fs.NArg() > 0 {
		return c.usageError("unexpected argument %q", c.fs.Arg(0))
	}
	fmt.Fprintln(stdout, auth.NewGossipKey())
	return 0
}

const keygenHelp = `Write the key to a file readable only by the nodes' user and give every coordinator and
worker that file as --gossip-key-file:

  tokenmill keygen > gossip.key && chmod 600 gossip.key
`
