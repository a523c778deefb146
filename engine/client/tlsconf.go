package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
)

// tlsConfig builds the TLS settings of p for a broker at addr (HOST:PORT).
func tlsConfig(p Profile, addr string, creds Credentials) (*tls.Config, error) {
	o := p.TLS
	conf := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: o.ALPN, ServerName: o.ServerName}
	if conf.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		conf.ServerName = host
	}
	// Insecure is the profile's explicit, warned-about choice (self-signed
	// test brokers); it is off unless a person turns it on.
	conf.InsecureSkipVerify = o.Insecure //nolint:gosec
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read the CA file of connection %q: %w", p.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("the CA file %s of connection %q holds no PEM certificate; give the CA certificate in PEM form", o.CAFile, p.Name)
		}
		conf.RootCAs = pool
	} else if o.BuiltinCA != "" {
		pool, err := builtinPool(o.BuiltinCA)
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", p.Name, err)
		}
		conf.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := loadKeyPair(o.CertFile, o.KeyFile, creds.KeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", p.Name, err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// loadKeyPair reads a client certificate and key; a key in the legacy
// OpenSSL encrypted PEM form ("Proc-Type: 4,ENCRYPTED") is decrypted with
// passphrase.
func loadKeyPair(certFile, keyFile, passphrase string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read the client certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read the client key: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return tls.Certificate{}, fmt.Errorf("the client key %s is not PEM; give the key file that goes with the certificate", keyFile)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return tls.Certificate{}, fmt.Errorf("the client key %s is an encrypted PKCS#8 key, which IoT Studio cannot open; decrypt it (openssl pkcs8 -in %s -out plain.pem) or use the legacy encrypted PEM form", keyFile, keyFile)
	}
	//lint:ignore SA1019 legacy PEM encryption is what devices' keys often come in; it is read, never written.
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
		if passphrase == "" {
			return tls.Certificate{}, fmt.Errorf("the client key %s is encrypted: enter its passphrase", keyFile)
		}
		der, err := x509.DecryptPEMBlock(block, []byte(passphrase)) //nolint:staticcheck
		// The format's only check is its padding, which about one wrong
		// passphrase in 256 passes: what it yields then is no key.
		if err != nil || !isPrivateKey(der) {
			return tls.Certificate{}, fmt.Errorf("cannot decrypt the client key %s: wrong passphrase?", keyFile)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// isPrivateKey reports whether der is a private key in one of the forms
// tls.X509KeyPair reads.
func isPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(der)
	return err == nil
}
