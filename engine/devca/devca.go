// Package devca creates and keeps a development certificate authority and a
// server certificate signed by it, so the broker's TLS listener works without
// the user buying or making certificates.
package devca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the Authority's folder.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca-key.pem"
	serverCertFile = "server.pem"
	serverKeyFile  = "server-key.pem"
)

const (
	caValidityYears = 10
	// 825 days is the longest lifetime Apple platforms accept for a TLS
	// server certificate, even one chaining to a user-installed root.
	serverMaxValidity = 825 * 24 * time.Hour
	// Renewing a month early means a device that is rarely reconnected
	// does not find an expired certificate the next time it talks to us.
	renewBefore = 30 * 24 * time.Hour
	// Backdating NotBefore lets devices whose clocks run slightly behind
	// accept a certificate issued a moment ago.
	clockSkew = 5 * time.Minute
)

// Authority is a loaded development CA plus the server certificate it
// issued. It is immutable after Ensure, so it is safe for concurrent use.
type Authority struct {
	dir    string
	caCert *x509.Certificate
	caPEM  []byte
	server tls.Certificate
}

// signingCA is the CA as needed to issue certificates.
type signingCA struct {
	cert *x509.Certificate
	pem  []byte
	key  crypto.Signer
}

// Ensure loads the CA and server certificate from dir, creating whatever is
// missing. The server certificate is (re)issued when it is missing, expires
// within 30 days, or does not cover every name in hosts. dir is created with 0700.
//
// An empty hosts means DefaultHosts. A broken CA is reported, never replaced:
// devices may already trust it, so only the user may decide to delete dir.
func Ensure(dir string, hosts []string) (*Authority, error) {
	if dir == "" {
		return nil, errors.New("dev CA: no folder given")
	}
	hosts = normalizeHosts(hosts)
	if len(hosts) == 0 {
		hosts = DefaultHosts()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create dev CA folder %s: %w", dir, err)
	}
	now := time.Now()
	ca, err := loadOrCreateCA(dir, now)
	if err != nil {
		return nil, err
	}
	server, err := loadOrIssueServer(dir, ca, hosts, now)
	if err != nil {
		return nil, err
	}
	return &Authority{dir: dir, caCert: ca.cert, caPEM: ca.pem, server: server}, nil
}

// DefaultHosts: "localhost", "127.0.0.1", "::1", os.Hostname() (and its short
// form if it has dots), skipping empties and duplicates.
func DefaultHosts() []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
		if short, _, found := strings.Cut(name, "."); found {
			hosts = append(hosts, short)
		}
	}
	return normalizeHosts(hosts)
}

// ServerTLSConfig returns a fresh config (callers may modify it) serving the
// server certificate.
func (a *Authority) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{a.server},
		MinVersion:   tls.VersionTLS12,
	}
}

// CACertPEM returns a copy of the CA certificate in PEM, for export.
func (a *Authority) CACertPEM() []byte {
	return slices.Clone(a.caPEM)
}

// CAPool returns a new pool holding only the CA, for clients and tests.
func (a *Authority) CAPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(a.caCert)
	return pool
}

// ExportCA writes the CA certificate as PEM to path with mode 0644. The file
// is replaced atomically so a reader never sees half a certificate.
func (a *Authority) ExportCA(path string) error {
	if err := writeFileAtomic(path, a.caPEM, 0o644); err != nil {
		return fmt.Errorf("export dev CA to %s: %w", path, err)
	}
	return nil
}

// Dir is the folder holding the CA and server files.
func (a *Authority) Dir() string {
	return a.dir
}

// normalizeHosts trims, lower-cases and de-duplicates host names so that
// "LocalHost", "localhost." and "[::1]" do not count as extra names.
func normalizeHosts(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		} else {
			h = strings.ToLower(strings.TrimSuffix(h, "."))
		}
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func loadOrCreateCA(dir string, now time.Time) (*signingCA, error) {
	certPath := filepath.Join(dir, caCertFile)
	keyPath := filepath.Join(dir, caKeyFile)
	haveCert, err := fileExists(certPath)
	if err != nil {
		return nil, fmt.Errorf("check dev CA certificate %s: %w", certPath, err)
	}
	haveKey, err := fileExists(keyPath)
	if err != nil {
		return nil, fmt.Errorf("check dev CA key %s: %w", keyPath, err)
	}
	switch {
	case !haveCert && !haveKey:
		return createCA(dir, now)
	case !haveKey:
		return nil, fmt.Errorf("dev CA key %s is missing but %s exists; delete the folder %s to regenerate the CA (devices must then trust the new one)", keyPath, certPath, dir)
	case !haveCert:
		return nil, fmt.Errorf("dev CA certificate %s is missing but %s exists; delete the folder %s to regenerate the CA (devices must then trust the new one)", certPath, keyPath, dir)
	}
	return loadCA(dir, now)
}

func loadCA(dir string, now time.Time) (*signingCA, error) {
	certPath := filepath.Join(dir, caCertFile)
	keyPath := filepath.Join(dir, caKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("read dev CA certificate %s: %w", certPath, err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("dev CA certificate %s is unusable (%w); delete the folder %s to regenerate it", certPath, err, dir)
	}
	if err := checkCA(cert, now); err != nil {
		return nil, fmt.Errorf("dev CA certificate %s %w; delete the folder %s to regenerate it", certPath, err, dir)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read dev CA key %s: %w", keyPath, err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("dev CA key %s is unusable (%w); delete the folder %s to regenerate it", keyPath, err, dir)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("dev CA key %s does not match certificate %s; delete the folder %s to regenerate the CA", keyPath, certPath, dir)
	}
	return &signingCA{cert: cert, pem: certPEM, key: key}, nil
}

// checkCA rejects certificates that cannot sign a server certificate that
// clients would accept today.
func checkCA(cert *x509.Certificate, now time.Time) error {
	switch {
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return errors.New("is not a CA certificate")
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return errors.New("is not allowed to sign certificates")
	case now.Before(cert.NotBefore):
		return fmt.Errorf("is not valid before %s", cert.NotBefore.Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return fmt.Errorf("expired on %s", cert.NotAfter.Format(time.RFC3339))
	}
	return nil
}

func createCA(dir string, now time.Time) (*signingCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate dev CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName(), Organization: []string{"IoT Studio"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.AddDate(caValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// A leaked dev CA key must not be able to mint intermediates.
		MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create dev CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new dev CA certificate: %w", err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, fmt.Errorf("encode dev CA key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKeyAndCert(dir, caKeyFile, keyPEM, caCertFile, certPEM); err != nil {
		return nil, fmt.Errorf("save dev CA: %w", err)
	}
	return &signingCA{cert: cert, pem: certPEM, key: key}, nil
}

// caCommonName names the machine so that a user who trusts CAs from several
// machines can tell them apart in their OS trust store.
func caCommonName() string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return "IoT Studio Development CA"
	}
	return fmt.Sprintf("IoT Studio Development CA (%s)", name)
}

func loadOrIssueServer(dir string, ca *signingCA, hosts []string, now time.Time) (tls.Certificate, error) {
	cert, usable, err := loadServer(dir, ca, hosts, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	if usable {
		return cert, nil
	}
	return issueServer(dir, ca, hosts, now)
}

// loadServer reports usable=false for anything that reissuing fixes
// (missing, corrupt, expiring, wrong names, other CA); only I/O errors that
// would also defeat rewriting the files are returned as errors.
func loadServer(dir string, ca *signingCA, hosts []string, now time.Time) (cert tls.Certificate, usable bool, err error) {
	certPEM, ok, err := readOptional(filepath.Join(dir, serverCertFile))
	if err != nil || !ok {
		return tls.Certificate{}, false, err
	}
	keyPEM, ok, err := readOptional(filepath.Join(dir, serverKeyFile))
	if err != nil || !ok {
		return tls.Certificate{}, false, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, false, nil
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return tls.Certificate{}, false, nil
	}
	if checkServer(leaf, ca, hosts, now) != nil {
		return tls.Certificate{}, false, nil
	}
	pair.Leaf = leaf
	return pair, true, nil
}

// checkServer says why leaf should be reissued, or nil if it is fine.
func checkServer(leaf *x509.Certificate, ca *signingCA, hosts []string, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if _, err := leaf.Verify(opts); err != nil {
		return err
	}
	// Renewing cannot help once the CA itself ends sooner than the
	// renewal window; reissuing then would just churn on every start.
	if leaf.NotAfter.Before(now.Add(renewBefore)) && leaf.NotAfter.Before(ca.cert.NotAfter) {
		return fmt.Errorf("expires on %s", leaf.NotAfter.Format(time.RFC3339))
	}
	for _, h := range hosts {
		if err := leaf.VerifyHostname(h); err != nil {
			return err
		}
	}
	return nil
}

func issueServer(dir string, ca *signingCA, hosts []string, now time.Time) (tls.Certificate, error) {
	notAfter := now.Add(serverMaxValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	der, key, err := createServerCert(ca, hosts, now.Add(-clockSkew), notAfter)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse new dev server certificate: %w", err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode dev server key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKeyAndCert(dir, serverKeyFile, keyPEM, serverCertFile, certPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("save dev server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// createServerCert signs a fresh key for hosts; the validity is a parameter
// so tests can create certificates that are about to expire.
func createServerCert(ca *signingCA, hosts []string, notBefore, notAfter time.Time) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate dev server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	dnsNames, ips := splitHosts(hosts)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: serverCommonName(hosts), Organization: []string{"IoT Studio"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign dev server certificate: %w", err)
	}
	return der, key, nil
}

// serverCommonName only matters to old clients and humans reading the
// certificate; modern clients look at the SANs alone.
func serverCommonName(hosts []string) string {
	if len(hosts) == 0 || slices.Contains(hosts, "localhost") {
		return "localhost"
	}
	return hosts[0]
}

func splitHosts(hosts []string) (dnsNames []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dnsNames = append(dnsNames, h)
		}
	}
	return dnsNames, ips
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial number: %w", err)
	}
	// RFC 5280 forbids a zero serial; the odds are 2^-128 but cost nothing.
	if serial.Sign() == 0 {
		serial.SetInt64(1)
	}
	return serial, nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("PEM block is %q, want CERTIFICATE", block.Type)
	}
	return x509.ParseCertificate(block.Bytes)
}

// parseKeyPEM also accepts SEC 1 EC keys so a CA made with openssl's
// defaults can be dropped into the folder.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	switch block.Type {
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("key type %T cannot sign", key)
		}
		return signer, nil
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block is %q, want PRIVATE KEY", block.Type)
	}
}

func encodeKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// writeKeyAndCert writes the key first: if we stop in between, the old
// certificate no longer matches the new key, which the next load notices,
// rather than a new certificate sitting next to a key that cannot use it.
func writeKeyAndCert(dir, keyName string, keyPEM []byte, certName string, certPEM []byte) error {
	if err := writeFileAtomic(filepath.Join(dir, keyName), keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, certName), certPEM, 0o644)
}

// writeFileAtomic writes via a temp file in the same folder and renames it
// over path, so readers see the old or the new file, never a partial one,
// and a key is never readable by others even for a moment.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("set mode of %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	return nil
}

func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// readOptional returns ok=false, and no error, when path does not exist.
func readOptional(path string) (data []byte, ok bool, err error) {
	data, err = os.ReadFile(path)
	switch {
	case err == nil:
		return data, true, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("read dev server file %s: %w", path, err)
	}
}
