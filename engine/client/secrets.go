package client

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/zalando/go-keyring"
)

// Keyring stores secrets by account name. OSKeyring is the real one; tests
// and a session without a keyring use others.
type Keyring interface {
	Get(account string) (string, error) // ErrSecretNotFound when absent
	Set(account, secret string) error
	Delete(account string) error
}

// KeyringService is the service name IoT Studio's secrets are filed under.
const KeyringService = "iotstudio"

var (
	// ErrSecretNotFound: the keyring holds no such secret; ask the person.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrKeyringUnavailable: there is no OS keyring to use (e.g. Linux
	// without a Secret Service such as GNOME Keyring or KWallet, or no
	// D-Bus session). Secrets are then never written to disk: the caller
	// asks again, or keeps them for this session with Secrets.KeepForSession.
	ErrKeyringUnavailable = errors.New("no OS keyring")
)

// OSKeyring is the operating system's keyring (macOS Keychain, Windows
// Credential Manager, the Secret Service on Linux) through go-keyring.
type OSKeyring struct{}

func (OSKeyring) Get(account string) (string, error) {
	s, err := keyring.Get(KeyringService, account)
	return s, osKeyringErr("read", account, err)
}

func (OSKeyring) Set(account, secret string) error {
	return osKeyringErr("store", account, keyring.Set(KeyringService, account, secret))
}

func (OSKeyring) Delete(account string) error {
	err := keyring.Delete(KeyringService, account)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return osKeyringErr("delete", account, err)
}

// osKeyringErr sorts go-keyring's errors: besides "not found" and "too
// big", every failure means the keyring itself cannot be reached (its
// Linux back end reports D-Bus errors), which callers handle as one case.
func osKeyringErr(op, account string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%w: %s in the keyring", ErrSecretNotFound, account)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s secret %s: too long for the OS keyring", op, account)
	}
	return &KeyringError{Op: op, Err: err}
}

// KeyringError says the OS keyring could not be used; it wraps
// ErrKeyringUnavailable.
type KeyringError struct {
	Op  string
	Err error
}

func (e *KeyringError) Error() string {
	return fmt.Sprintf("cannot %s the secret: no OS keyring is available (%v). "+
		"On Linux, install and unlock a Secret Service (GNOME Keyring or KWallet). "+
		"Until then IoT Studio can keep the secret in memory for this session only, or ask for it at every connect; it never writes secrets to disk", e.Op, e.Err)
}

func (e *KeyringError) Unwrap() []error { return []error{ErrKeyringUnavailable, e.Err} }

// SecretKind names one of a profile's secrets.
type SecretKind string

const (
	SecretPassword       SecretKind = "password"
	SecretKeyPassphrase  SecretKind = "key-passphrase"
	SecretAzureDeviceKey SecretKind = "azure-device-key"
)

// Secrets files profile secrets in a Keyring, with an in-memory layer for
// the documented fallback: when the keyring is unavailable, the UI may
// offer to KeepForSession, and those secrets are forgotten at exit.
type Secrets struct {
	kr Keyring

	mu      sync.Mutex
	session map[string]string
}

// NewSecrets uses kr (OSKeyring{} in the app).
func NewSecrets(kr Keyring) *Secrets {
	return &Secrets{kr: kr, session: map[string]string{}}
}

func account(profileID string, kind SecretKind) string { return profileID + "/" + string(kind) }

// Set stores a secret in the keyring. If the keyring is unavailable the
// error wraps ErrKeyringUnavailable and nothing is stored anywhere.
func (s *Secrets) Set(profileID string, kind SecretKind, secret string) error {
	if err := s.kr.Set(account(profileID, kind), secret); err != nil {
		// No profile ID: people know connections by name, which the
		// caller adds.
		return fmt.Errorf("save the %s: %w", kind, err)
	}
	s.mu.Lock()
	delete(s.session, account(profileID, kind))
	s.mu.Unlock()
	return nil
}

// KeepForSession holds a secret in memory until the program exits.
func (s *Secrets) KeepForSession(profileID string, kind SecretKind, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.session[account(profileID, kind)] = secret
}

// Get returns a secret from the session, else from the keyring. The error
// wraps ErrSecretNotFound or ErrKeyringUnavailable: both mean "ask".
func (s *Secrets) Get(profileID string, kind SecretKind) (string, error) {
	s.mu.Lock()
	v, ok := s.session[account(profileID, kind)]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := s.kr.Get(account(profileID, kind))
	if err != nil {
		return "", fmt.Errorf("the %s: %w", kind, err)
	}
	return v, nil
}

// Forget deletes every secret of a profile (when the profile is deleted).
func (s *Secrets) Forget(profileID string) error {
	var errs []error
	for _, k := range []SecretKind{SecretPassword, SecretKeyPassphrase, SecretAzureDeviceKey} {
		s.mu.Lock()
		delete(s.session, account(profileID, k))
		s.mu.Unlock()
		if err := s.kr.Delete(account(profileID, k)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Credentials gathers the secrets p needs to connect. A missing one is an
// error that names it (wrapping ErrSecretNotFound or ErrKeyringUnavailable),
// so the UI can ask for exactly that.
func (s *Secrets) Credentials(p Profile) (Credentials, error) {
	var c Credentials
	var err error
	if p.HasPassword && p.Azure == nil {
		if c.Password, err = s.Get(p.ID, SecretPassword); err != nil {
			return c, err
		}
	}
	if p.TLS.HasPassphrase {
		if c.KeyPassphrase, err = s.Get(p.ID, SecretKeyPassphrase); err != nil {
			return c, err
		}
	}
	if p.Azure != nil {
		if c.AzureDeviceKey, err = s.Get(p.ID, SecretAzureDeviceKey); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Credentials are a profile's secrets for one Open. They are never logged.
type Credentials struct {
	Password       string
	KeyPassphrase  string
	AzureDeviceKey string
}

// LogValue, String and GoString keep secrets out of logs and error texts
// even if a Credentials is printed by mistake.
func (Credentials) LogValue() slog.Value { return slog.StringValue("[secrets hidden]") }
func (Credentials) String() string       { return "[secrets hidden]" }
func (Credentials) GoString() string     { return "[secrets hidden]" }
