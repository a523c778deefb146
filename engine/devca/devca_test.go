package devca

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var testHosts = []string{"localhost", "127.0.0.1", "::1", "broker.test"}

func mustEnsure(t *testing.T, dir string, hosts []string) *Authority {
	t.Helper()
	a, err := Ensure(dir, hosts)
	if err != nil {
		t.Fatalf("Ensure(%s, %v): %v", dir, hosts, err)
	}
	return a
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseCertFile(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	cert, err := parseCertPEM(readFile(t, dir, name))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return cert
}

// snapshot returns the contents of all four files, keyed by name.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range []string{caCertFile, caKeyFile, serverCertFile, serverKeyFile} {
		files[name] = readFile(t, dir, name)
	}
	return files
}

func TestEnsureCreatesFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devca")
	a := mustEnsure(t, dir, testHosts)
	if a.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", a.Dir(), dir)
	}

	if runtime.GOOS != "windows" {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o700 {
			t.Errorf("folder mode = %o, want 700", got)
		}
	}
	tests := []struct {
		name     string
		mode     fs.FileMode
		pemType  string
		isKeyPEM bool
	}{
		{caCertFile, 0o644, "CERTIFICATE", false},
		{caKeyFile, 0o600, "PRIVATE KEY", true},
		{serverCertFile, 0o644, "CERTIFICATE", false},
		{serverKeyFile, 0o600, "PRIVATE KEY", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); runtime.GOOS != "windows" && got != tt.mode {
				t.Errorf("mode = %o, want %o", got, tt.mode)
			}
			block, rest := pem.Decode(readFile(t, dir, tt.name))
			if block == nil || block.Type != tt.pemType || len(bytes.TrimSpace(rest)) != 0 {
				t.Fatalf("want exactly one %q PEM block", tt.pemType)
			}
			if tt.isKeyPEM {
				if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
					t.Errorf("not PKCS#8: %v", err)
				}
			}
		})
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only the four PEM files (no temp files left)", names)
	}
}

func TestCertificateContents(t *testing.T) {
	dir := t.TempDir()
	before := time.Now()
	mustEnsure(t, dir, testHosts)
	ca := parseCertFile(t, dir, caCertFile)
	srv := parseCertFile(t, dir, serverCertFile)

	t.Run("ca", func(t *testing.T) {
		if !ca.IsCA || !ca.BasicConstraintsValid {
			t.Error("CA certificate is not marked as a CA")
		}
		if want := x509.KeyUsageCertSign | x509.KeyUsageCRLSign; ca.KeyUsage != want {
			t.Errorf("KeyUsage = %v, want %v", ca.KeyUsage, want)
		}
		if !strings.HasPrefix(ca.Subject.CommonName, "IoT Studio Development CA") {
			t.Errorf("CN = %q", ca.Subject.CommonName)
		}
		if err := ca.CheckSignatureFrom(ca); err != nil {
			t.Errorf("CA is not self-signed: %v", err)
		}
		if years := ca.NotAfter.Sub(before).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
			t.Errorf("CA valid for %.2f years, want 10", years)
		}
		if !ca.NotBefore.Before(before) {
			t.Errorf("CA NotBefore %v is not in the past", ca.NotBefore)
		}
		if ca.SerialNumber.BitLen() < 64 {
			t.Errorf("CA serial %v looks too small to be random 128-bit", ca.SerialNumber)
		}
		if ca.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("CA key algorithm = %v, want ECDSA", ca.PublicKeyAlgorithm)
		}
	})
	t.Run("server", func(t *testing.T) {
		if srv.IsCA {
			t.Error("server certificate is a CA")
		}
		if err := srv.CheckSignatureFrom(ca); err != nil {
			t.Errorf("server certificate not signed by CA: %v", err)
		}
		if !slices.Equal(srv.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
			t.Errorf("ExtKeyUsage = %v, want ServerAuth", srv.ExtKeyUsage)
		}
		if want := []string{"localhost", "broker.test"}; !slices.Equal(srv.DNSNames, want) {
			t.Errorf("DNSNames = %v, want %v", srv.DNSNames, want)
		}
		var ips []string
		for _, ip := range srv.IPAddresses {
			ips = append(ips, ip.String())
		}
		if want := []string{"127.0.0.1", "::1"}; !slices.Equal(ips, want) {
			t.Errorf("IPAddresses = %v, want %v", ips, want)
		}
		if srv.Subject.CommonName != "localhost" {
			t.Errorf("CN = %q, want localhost", srv.Subject.CommonName)
		}
		if !srv.NotBefore.Before(before) {
			t.Errorf("NotBefore %v is not in the past", srv.NotBefore)
		}
		if d := srv.NotAfter.Sub(srv.NotBefore); d > 825*24*time.Hour+clockSkew {
			t.Errorf("server certificate valid for %v, more than 825 days", d)
		}
		if srv.NotAfter.Before(before.Add(800 * 24 * time.Hour)) {
			t.Errorf("server certificate NotAfter %v is much shorter than 825 days", srv.NotAfter)
		}
		if srv.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("server key algorithm = %v, want ECDSA", srv.PublicKeyAlgorithm)
		}
	})
}

func TestEnsureReusesExisting(t *testing.T) {
	dir := t.TempDir()
	first := mustEnsure(t, dir, testHosts)
	before := snapshot(t, dir)
	second := mustEnsure(t, dir, testHosts)
	for name, data := range snapshot(t, dir) {
		if !bytes.Equal(data, before[name]) {
			t.Errorf("%s changed on second Ensure", name)
		}
	}
	if !bytes.Equal(first.CACertPEM(), second.CACertPEM()) {
		t.Error("CACertPEM differs between runs")
	}
	if !bytes.Equal(first.server.Certificate[0], second.server.Certificate[0]) {
		t.Error("served certificate differs between runs")
	}
	// A subset of the names already covered must not force a reissue.
	mustEnsure(t, dir, []string{"LOCALHOST", "[::1]"})
	if !bytes.Equal(readFile(t, dir, serverCertFile), before[serverCertFile]) {
		t.Error("server certificate reissued for names it already covers")
	}
}

func TestEnsureReissuesServer(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		// breakDir damages the folder after a first Ensure with testHosts.
		breakDir func(t *testing.T, dir string)
	}{
		{
			name:     "new host",
			hosts:    append(slices.Clone(testHosts), "mqtt.example", "10.1.2.3"),
			breakDir: func(*testing.T, string) {},
		},
		{
			name:  "server cert missing",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, serverCertFile)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "server key missing",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, serverKeyFile)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "corrupt server cert",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				writeTestFile(t, filepath.Join(dir, serverCertFile), []byte("garbage"))
			},
		},
		{
			name:  "server key from elsewhere",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				other := t.TempDir()
				mustEnsure(t, other, testHosts)
				writeTestFile(t, filepath.Join(dir, serverKeyFile), readFile(t, other, serverKeyFile))
			},
		},
		{
			name:  "signed by another CA",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				other := t.TempDir()
				mustEnsure(t, other, testHosts)
				for _, name := range []string{serverCertFile, serverKeyFile} {
					writeTestFile(t, filepath.Join(dir, name), readFile(t, other, name))
				}
			},
		},
		{
			name:  "expires within 30 days",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				now := time.Now()
				writeServerCert(t, dir, testHosts, now.Add(-time.Hour), now.Add(29*24*time.Hour))
			},
		},
		{
			name:  "expired",
			hosts: testHosts,
			breakDir: func(t *testing.T, dir string) {
				now := time.Now()
				writeServerCert(t, dir, testHosts, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustEnsure(t, dir, testHosts)
			tt.breakDir(t, dir)
			before := listDir(t, dir) // may lack a server file

			a := mustEnsure(t, dir, tt.hosts)
			after := snapshot(t, dir)
			for _, name := range []string{caCertFile, caKeyFile} {
				if !bytes.Equal(after[name], before[name]) {
					t.Errorf("%s changed; the CA must be kept", name)
				}
			}
			if bytes.Equal(after[serverCertFile], before[serverCertFile]) {
				t.Error("server certificate was not reissued")
			}
			leaf := parseCertFile(t, dir, serverCertFile)
			if !bytes.Equal(leaf.Raw, a.server.Certificate[0]) {
				t.Error("served certificate is not the one on disk")
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.CAPool()}); err != nil {
				t.Errorf("reissued certificate does not verify against the CA: %v", err)
			}
			for _, h := range tt.hosts {
				if err := leaf.VerifyHostname(h); err != nil {
					t.Errorf("reissued certificate does not cover %q: %v", h, err)
				}
			}
			if _, err := tls.X509KeyPair(after[serverCertFile], after[serverKeyFile]); err != nil {
				t.Errorf("server files on disk do not form a key pair: %v", err)
			}
		})
	}
}

// writeTestFile replaces a file keeping its mode, as a user editing it would.
func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeServerCert puts a server certificate with the given validity, signed
// by dir's CA, into dir.
func writeServerCert(t *testing.T, dir string, hosts []string, notBefore, notAfter time.Time) {
	t.Helper()
	ca, err := loadCA(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, key, err := createServerCert(ca, hosts, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKeyAndCert(dir, serverKeyFile, keyPEM, serverCertFile, certPEM); err != nil {
		t.Fatal(err)
	}
}

// serveTLS accepts connections and completes handshakes until the test ends.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				// Failures are expected for the negative cases; the
				// client side reports what matters.
				_ = conn.(*tls.Conn).Handshake()
			})
		}
	})
	return ln.Addr().String()
}

func TestTLSHandshake(t *testing.T) {
	a := mustEnsure(t, t.TempDir(), testHosts)
	cfg := a.ServerTLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
	}
	addr := serveTLS(t, cfg)

	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	tests := []struct {
		name       string
		serverName string
		roots      *x509.CertPool
		wantErr    any // pointer to the error type expected, nil for success
	}{
		{"localhost", "localhost", a.CAPool(), nil},
		{"loopback IP", "127.0.0.1", a.CAPool(), nil},
		{"extra host", "broker.test", a.CAPool(), nil},
		{"name not covered", "not-covered.example", a.CAPool(), &hostErr},
		{"empty pool", "localhost", x509.NewCertPool(), &authErr},
		{"other CA", "localhost", mustEnsure(t, t.TempDir(), testHosts).CAPool(), &authErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dialer := &net.Dialer{Timeout: 5 * time.Second}
			conn, err := tls.DialWithDialer(dialer, "tcp", addr, &tls.Config{
				RootCAs:    tt.roots,
				ServerName: tt.serverName,
				MinVersion: tls.VersionTLS12,
			})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("handshake failed: %v", err)
				}
				defer conn.Close()
				if len(conn.ConnectionState().VerifiedChains) == 0 {
					t.Error("no verified chain")
				}
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("handshake succeeded, want an error")
			}
			if !errors.As(err, tt.wantErr) {
				t.Errorf("error %v (%T) is not a %T", err, err, tt.wantErr)
			}
		})
	}
}

func TestEnsureBrokenCA(t *testing.T) {
	tests := []struct {
		name     string
		breakDir func(t *testing.T, dir string)
		// wantInErr lists file names that the error must mention.
		wantInErr []string
		wantDir   bool // the error must tell the user which folder to delete
	}{
		{
			name: "corrupt ca.pem",
			breakDir: func(t *testing.T, dir string) {
				writeTestFile(t, filepath.Join(dir, caCertFile), []byte("not a certificate"))
			},
			wantInErr: []string{caCertFile},
			wantDir:   true,
		},
		{
			name: "ca.pem holds a key",
			breakDir: func(t *testing.T, dir string) {
				writeTestFile(t, filepath.Join(dir, caCertFile), readFile(t, dir, caKeyFile))
			},
			wantInErr: []string{caCertFile},
			wantDir:   true,
		},
		{
			name: "corrupt ca-key.pem",
			breakDir: func(t *testing.T, dir string) {
				writeTestFile(t, filepath.Join(dir, caKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
			},
			wantInErr: []string{caKeyFile},
			wantDir:   true,
		},
		{
			name: "CA key does not match",
			breakDir: func(t *testing.T, dir string) {
				other := t.TempDir()
				mustEnsure(t, other, testHosts)
				writeTestFile(t, filepath.Join(dir, caKeyFile), readFile(t, other, caKeyFile))
			},
			wantInErr: []string{caKeyFile, caCertFile},
			wantDir:   true,
		},
		{
			name: "server cert in place of CA",
			breakDir: func(t *testing.T, dir string) {
				writeTestFile(t, filepath.Join(dir, caCertFile), readFile(t, dir, serverCertFile))
				writeTestFile(t, filepath.Join(dir, caKeyFile), readFile(t, dir, serverKeyFile))
			},
			wantInErr: []string{caCertFile},
			wantDir:   true,
		},
		{
			name: "CA key missing",
			breakDir: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, caKeyFile)); err != nil {
					t.Fatal(err)
				}
			},
			wantInErr: []string{caKeyFile},
			wantDir:   true,
		},
		{
			name: "CA cert missing",
			breakDir: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, caCertFile)); err != nil {
					t.Fatal(err)
				}
			},
			wantInErr: []string{caCertFile},
			wantDir:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustEnsure(t, dir, testHosts)
			tt.breakDir(t, dir)
			before := listDir(t, dir)

			a, err := Ensure(dir, testHosts)
			if err == nil {
				t.Fatalf("Ensure succeeded with a broken CA (authority %v)", a)
			}
			for _, name := range tt.wantInErr {
				if path := filepath.Join(dir, name); !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not mention %s", err, path)
				}
			}
			if tt.wantDir && !strings.Contains(err.Error(), "delete the folder "+dir) {
				t.Errorf("error %q does not tell the user to delete %s", err, dir)
			}
			after := listDir(t, dir)
			if !maps.EqualFunc(before, after, bytes.Equal) {
				t.Errorf("Ensure modified the folder after failing:\nbefore %v\nafter  %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
			}
		})
	}
}

func listDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		files[e.Name()] = readFile(t, dir, e.Name())
	}
	return files
}

func TestExportCA(t *testing.T) {
	a := mustEnsure(t, t.TempDir(), testHosts)
	path := filepath.Join(t.TempDir(), "iotstudio-ca.pem")
	// An existing file is replaced, as when the user exports twice.
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.ExportCA(path); err != nil {
		t.Fatalf("ExportCA: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCertPEM(data)
	if err != nil {
		t.Fatalf("exported file does not parse: %v", err)
	}
	if !cert.Equal(a.caCert) || !bytes.Equal(data, a.CACertPEM()) {
		t.Error("exported certificate is not the CA")
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o644 {
			t.Errorf("mode = %o, want 644", got)
		}
	}

	bad := filepath.Join(t.TempDir(), "no-such-dir", "ca.pem")
	if err := a.ExportCA(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ExportCA into a missing folder: error %v, want one naming %s", err, bad)
	}
}

func TestCACertPEMIsACopy(t *testing.T) {
	a := mustEnsure(t, t.TempDir(), testHosts)
	p := a.CACertPEM()
	p[0] = 'X'
	if bytes.Equal(p, a.CACertPEM()) {
		t.Error("modifying the returned PEM changed the Authority")
	}
}

func TestDefaultHosts(t *testing.T) {
	hosts := DefaultHosts()
	for _, want := range []string{"localhost", "127.0.0.1", "::1"} {
		if !slices.Contains(hosts, want) {
			t.Errorf("DefaultHosts() = %v, missing %q", hosts, want)
		}
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			t.Errorf("DefaultHosts() = %v has an empty or duplicate entry %q", hosts, h)
		}
		seen[h] = true
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		if !slices.Contains(hosts, strings.ToLower(name)) {
			t.Errorf("DefaultHosts() = %v, missing hostname %q", hosts, name)
		}
		if short, _, ok := strings.Cut(name, "."); ok && !slices.Contains(hosts, strings.ToLower(short)) {
			t.Errorf("DefaultHosts() = %v, missing short hostname %q", hosts, short)
		}
	}
}

func TestNormalizeHosts(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{nil, []string{}},
		{[]string{"", "  "}, []string{}},
		{[]string{"localhost", "LocalHost", "localhost."}, []string{"localhost"}},
		{[]string{"[::1]", "::1", "0:0:0:0:0:0:0:1"}, []string{"::1"}},
		{[]string{" 127.0.0.1 ", "Box.Lan", "box.lan"}, []string{"127.0.0.1", "box.lan"}},
	}
	for _, tt := range tests {
		if got := normalizeHosts(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("normalizeHosts(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestServerCommonName(t *testing.T) {
	tests := []struct {
		hosts []string
		want  string
	}{
		{[]string{"127.0.0.1", "localhost"}, "localhost"},
		{[]string{"box.lan", "10.0.0.2"}, "box.lan"},
		{nil, "localhost"},
	}
	for _, tt := range tests {
		if got := serverCommonName(tt.hosts); got != tt.want {
			t.Errorf("serverCommonName(%q) = %q, want %q", tt.hosts, got, tt.want)
		}
	}
}

func TestEnsureEmptyHostsUsesDefaults(t *testing.T) {
	dir := t.TempDir()
	mustEnsure(t, dir, nil)
	leaf := parseCertFile(t, dir, serverCertFile)
	for _, h := range DefaultHosts() {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate for empty hosts does not cover default %q: %v", h, err)
		}
	}
}
