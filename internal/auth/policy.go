package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"path"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Metadata keys: the bearer token, and the role a forwarding coordinator says its caller
// has (believed only from a peer whose certificate is a coordinator's).
const (
	authorizationKey = "authorization"
	callerRoleKey    = "tokenmill-caller-role"
	bearerPrefix     = "Bearer "
)

// need is the kind of caller a call is for.
type need int

const (
	// needPerson: a person (CLI); with a --token-file, its token.
	needPerson need = iota
	// needPersonOrCoordinator: a person, or a coordinator calling for itself.
	needPersonOrCoordinator
	// needWorker: a worker: its certificate or its --worker-token-file token.
	needWorker
)

// needs is the table of which call needs which caller, by service; a method listed by
// its full name overrides its service. A call of a service not listed is refused.
var needs = map[string]need{
	"/tokenmill.v1.JobService/":              need(needPerson),
	"/tokenmill.v1.ClusterService/":          need(needPerson),
	"/tokenmill.v1.ClusterService/RaftPeers": need(needPersonOrCoordinator),
	"/tokenmill.v1.WorkerService/":           need(needWorker),
}

func needOf(method string) (need, bool) {
	if n, ok := needs[method]; ok {
		return n, true
	}
	n, ok := needs[path.Dir(method)+"/"]
	return n, ok
}

// Policy says who may call a coordinator. Its zero value lets every caller in: each piece
// is on when set.
type Policy struct {
	// TLS says the server requires client certificates: the caller's role is its
	// certificate's (RoleOf).
	TLS bool
	// PersonToken, when set, is the token people's calls must carry (--token-file).
	PersonToken []byte
	// WorkerToken, when set, is the token workers' calls carry without TLS
	// (--worker-token-file).
	WorkerToken []byte
}

// Enabled says any piece of the policy is on.
func (p *Policy) Enabled() bool { return p.TLS || len(p.PersonToken) > 0 || len(p.WorkerToken) > 0 }

// Validate refuses a policy that lets a person's token pass for a worker's: the same token
// for both, or a person's token without TLS and without a worker token (the WorkerService
// would be open to anyone).
func (p *Policy) Validate() error {
	var errs []error
	if len(p.PersonToken) > 0 && subtle.ConstantTimeCompare(p.PersonToken, p.WorkerToken) == 1 {
		errs = append(errs, errors.New("the person token (--token-file) and the worker token (--worker-token-file) must differ"))
	}
	if len(p.PersonToken) > 0 && !p.TLS && len(p.WorkerToken) == 0 {
		errs = append(errs, errors.New("--token-file without TLS needs --worker-token-file too: else the WorkerService is open to any caller"))
	}
	return errors.Join(errs...)
}

// roleKey holds the caller's role in a call's context, for Forward.
type roleKey struct{}

// CallerRole returns the role Policy found for the call of ctx.
func CallerRole(ctx context.Context) Role {
	r, _ := ctx.Value(roleKey{}).(Role)
	return r
}

// Unary and Stream are the server interceptors that apply the policy to every call.
func (p *Policy) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	role, err := p.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return h(context.WithValue(ctx, roleKey{}, role), req)
}

func (p *Policy) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	role, err := p.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return h(srv, &roleStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), roleKey{}, role)})
}

type roleStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *roleStream) Context() context.Context { return s.ctx }

// authorize returns the caller's role, or the status that refuses the call.
func (p *Policy) authorize(ctx context.Context, method string) (Role, error) {
	n, ok := needOf(method)
	if !ok {
		return RoleNone, status.Errorf(codes.PermissionDenied, "%s is not a call of the cluster's API", method)
	}
	name := strings.Replace(strings.TrimPrefix(method, "/tokenmill.v1."), "/", ".", 1)
	role, tokenOK, err := p.caller(ctx)
	if err != nil {
		return RoleNone, err
	}
	switch n {
	case needWorker:
		switch {
		case role == RoleWorker:
			return role, nil
		case role == RoleNone && !p.TLS && len(p.WorkerToken) == 0:
			return role, nil // no worker credential configured
		case role == RoleNone:
			return role, status.Errorf(codes.Unauthenticated, "%s needs a worker's credential: %s", name, p.workerHow())
		}
		return role, status.Errorf(codes.PermissionDenied, "%s is for workers: a %s's credential may not call it", name, role)
	default:
		switch {
		case role == RoleWorker:
			return role, status.Errorf(codes.PermissionDenied, "a worker's credential may not call %s: workers run tasks, people submit and manage jobs", name)
		case role == RoleCoordinator && n == needPersonOrCoordinator:
			return role, nil
		case role == RoleCoordinator:
			return role, status.Errorf(codes.PermissionDenied, "a coordinator's certificate may call %s only when it forwards a person's call", name)
		case len(p.PersonToken) > 0 && !tokenOK:
			if bearer(ctx) == "" {
				return role, status.Errorf(codes.Unauthenticated, "%s needs a token: set TOKENMILL_TOKEN or pass --token-file (the coordinators require the token of their --token-file)", name)
			}
			return role, status.Errorf(codes.Unauthenticated, "%s: the token is not the coordinators' (check TOKENMILL_TOKEN or --token-file against the coordinators' --token-file)", name)
		}
		return RolePerson, nil
	}
}

func (p *Policy) workerHow() string {
	if p.TLS {
		return "a client certificate whose Subject OU is " + OUWorker + " (--tls-cert)"
	}
	return "the token of the coordinators' --worker-token-file (start the worker with --worker-token-file)"
}

// caller finds who calls: with TLS by the certificate (a coordinator's may speak for the
// caller it forwards), without it by the token. tokenOK says the call carries the person
// token.
func (p *Policy) caller(ctx context.Context) (role Role, tokenOK bool, err error) {
	tok := bearer(ctx)
	tokenOK = len(p.PersonToken) > 0 && tok != "" && subtle.ConstantTimeCompare([]byte(tok), p.PersonToken) == 1
	if !p.TLS {
		switch {
		case tokenOK:
			return RolePerson, true, nil
		case len(p.WorkerToken) > 0 && tok != "" && subtle.ConstantTimeCompare([]byte(tok), p.WorkerToken) == 1:
			return RoleWorker, false, nil
		}
		return RoleNone, false, nil
	}
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return RoleNone, false, status.Error(codes.Unauthenticated, "no peer information: the server cannot tell who calls")
	}
	ti, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return RoleNone, false, status.Error(codes.Unauthenticated, "the call carries no client certificate (pass --tls-cert, --tls-key and --tls-ca)")
	}
	role = RoleOf(ti.State.PeerCertificates[0])
	if role == RoleCoordinator {
		if r := metadataValue(ctx, callerRoleKey); r != "" {
			return parseRole(r), true, nil // the forwarder checked its caller
		}
	}
	return role, tokenOK, nil
}

func bearer(ctx context.Context) string {
	v := metadataValue(ctx, authorizationKey)
	tok, ok := strings.CutPrefix(v, bearerPrefix)
	if !ok {
		return ""
	}
	return tok
}

func metadataValue(ctx context.Context, key string) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}
	if v := md.Get(key); len(v) == 1 {
		return v[0]
	}
	return ""
}

// Forward returns the outgoing context of a call a coordinator forwards for the call of
// in: it carries the caller's token, so that a coordinator without TLS checks it again, and
// the caller's role, which a coordinator with TLS believes from a coordinator's
// certificate.
func Forward(in, out context.Context) context.Context {
	if v := metadataValue(in, authorizationKey); v != "" {
		out = metadata.AppendToOutgoingContext(out, authorizationKey, v)
	}
	if r := CallerRole(in); r != RoleNone && r != RoleCoordinator {
		out = metadata.AppendToOutgoingContext(out, callerRoleKey, r.String())
	}
	return out
}

// WithToken returns ctx with token as the outgoing bearer token; nil leaves ctx.
func WithToken(ctx context.Context, token []byte) context.Context {
	if len(token) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, authorizationKey, bearerPrefix+string(token))
}

// tokenCreds sends a bearer token with every call.
type tokenCreds []byte

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{authorizationKey: bearerPrefix + string(t)}, nil
}

// RequireTransportSecurity is false: a cluster without TLS may still use tokens (on a
// network the operator trusts not to be read).
func (tokenCreds) RequireTransportSecurity() bool { return false }

// DialOptions returns the options of a client of coordinators: TLS with the certificate of
// t (nil: plain TCP), and token sent with every call (nil: none).
func DialOptions(t *TLS, token []byte) []grpc.DialOption {
	var opts []grpc.DialOption
	if t != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(t.ClientConfig())))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if len(token) > 0 {
		opts = append(opts, grpc.WithPerRPCCredentials(tokenCreds(token)))
	}
	return opts
}

// ServerOptions returns the options of a coordinator's gRPC server: TLS with the
// certificate of t (nil: plain TCP) and the policy's interceptors when p is enabled.
func ServerOptions(t *TLS, p *Policy) []grpc.ServerOption {
	var opts []grpc.ServerOption
	if t != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(t.ServerConfig())))
	}
	if p != nil && p.Enabled() {
		opts = append(opts, grpc.ChainUnaryInterceptor(p.Unary), grpc.ChainStreamInterceptor(p.Stream))
	}
	return opts
}
