package client

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A wrong passphrase is caught by the legacy PEM format's padding check
// only about 255 times in 256: otherwise the block "decrypts" into bytes
// that are no key at all. The user must still be told that the passphrase
// is the likely problem, not "tls: failed to parse private key" (seen once
// in CI). The test searches for such a passphrase, so it does not depend
// on luck.
func TestWrongPassphraseThatPassesThePaddingCheck(t *testing.T) {
	ca := newPKI(t, "pad-ca")
	cliCert, cliKey := ca.issue(certSpec{name: "client", client: true})
	encKey := encryptKey(t, cliKey, "correct horse")
	raw, err := os.ReadFile(encKey)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	wrong := ""
	for i := 0; i < 20000 && wrong == ""; i++ {
		guess := fmt.Sprintf("wrong-%d", i)
		if _, err := x509.DecryptPEMBlock(block, []byte(guess)); err == nil { //nolint:staticcheck // the legacy format under test
			wrong = guess
		}
	}
	if wrong == "" {
		t.Fatal("no wrong passphrase among 20,000 passed the padding check; expected about 78")
	}
	_, err = loadKeyPair(cliCert, encKey, wrong)
	if err == nil {
		t.Fatalf("the key opened with the wrong passphrase %q", wrong)
	}
	if !strings.Contains(err.Error(), "passphrase") || !strings.Contains(err.Error(), filepath.Base(encKey)) {
		t.Errorf("error %q does not say the key file's passphrase is the likely problem", err)
	}
}
