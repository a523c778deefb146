package broker

import (
	"path/filepath"

	"github.com/iotstudio/iotstudio/engine/sessionstore"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// The session store must stay a SessionStore without an adapter.
var _ SessionStore = (*sessionstore.Hook)(nil)

// storeIn opens the session store the app uses in dataDir/sessions, as
// engine/studio does: the broker's tests that restart a broker need it.
func storeIn(dataDir string) SessionOpener {
	return func() (SessionStore, error) {
		return sessionstore.Open(filepath.Join(dataDir, "sessions"), testkit.Logger())
	}
}

// withStore gives cfg the session store in its data dir unless it keeps
// sessions in memory or names a store already.
func withStore(cfg Config) Config {
	if !cfg.NoPersistence && cfg.Sessions == nil {
		cfg.Sessions = storeIn(cfg.DataDir)
	}
	return cfg
}
