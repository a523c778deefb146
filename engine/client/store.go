package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ProfilesFile is the file, in the data dir, that holds the profiles.
const ProfilesFile = "connections.json"

// profileFile is the on-disk form; Version lets a later release migrate.
type profileFile struct {
	Version  int       `json:"version"`
	Profiles []Profile `json:"profiles"`
}

const profileFileVersion = 1

// Store keeps profiles as JSON in the data dir. Profiles hold no secrets,
// so the file is safe to back up and share.
type Store struct {
	path string
}

// NewStore keeps profiles in dataDir/connections.json.
func NewStore(dataDir string) *Store { return &Store{path: filepath.Join(dataDir, ProfilesFile)} }

// Path is the profiles file.
func (s *Store) Path() string { return s.path }

// Load reads the profiles; a missing file is no profiles.
func (s *Store) Load() ([]Profile, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the connections file: %w", err)
	}
	defer f.Close()
	ps, err := decodeProfiles(f)
	if err != nil {
		return nil, fmt.Errorf("read the connections file %s: %w; fix or move it aside and the app starts with none", s.path, err)
	}
	return ps, nil
}

// Save replaces the file atomically: a crash leaves the old file or the
// new one, never half of one.
func (s *Store) Save(ps []Profile) error {
	if err := replaceFile(s.path, func(w io.Writer) error { return encodeProfiles(w, ps) }); err != nil {
		return fmt.Errorf("save connections: %w", err)
	}
	return nil
}

// replaceFile writes path through a synced temporary file renamed over it.
func replaceFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Export writes profiles for another machine or person. Profiles hold no
// secrets (those are in the keyring), so nothing is stripped: the "has a
// password" marks stay, so that the importing app asks for them at connect.
func Export(w io.Writer, ps []Profile) error {
	if err := encodeProfiles(w, ps); err != nil {
		return fmt.Errorf("export connections: %w", err)
	}
	return nil
}

// Import reads profiles written by Export (or a profiles file). Every
// profile gets a new ID, so importing twice or importing one's own export
// never shares keyring entries with existing profiles. Profiles that said
// they had a password keep HasPassword, so the app asks for it at connect.
func Import(r io.Reader) ([]Profile, error) {
	ps, err := decodeProfiles(r)
	if err != nil {
		return nil, fmt.Errorf("import connections: %w", err)
	}
	for i := range ps {
		ps[i].ID = NewID()
		// Whoever exported it had it connected; that is no reason to
		// connect here at the next start.
		ps[i].ConnectAtStart = false
		if err := ps[i].validateShape(); err != nil {
			return nil, fmt.Errorf("import connections: profile %d (%q): %w", i+1, ps[i].Name, err)
		}
	}
	return ps, nil
}

func encodeProfiles(w io.Writer, ps []Profile) error {
	if ps == nil {
		ps = []Profile{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(profileFile{Version: profileFileVersion, Profiles: ps})
}

func decodeProfiles(r io.Reader) ([]Profile, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields() // a typo in a hand-edited file should say so
	var f profileFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a connections file: %w", err)
	}
	if f.Version != profileFileVersion {
		return nil, fmt.Errorf("connections file version %d; this IoT Studio reads version %d", f.Version, profileFileVersion)
	}
	return f.Profiles, nil
}

// validateShape checks what an imported profile must have, without
// touching files (an import may come before its certificates).
func (p Profile) validateShape() error {
	if p.Name == "" || p.URL == "" {
		return errors.New("a connection needs a name and a URL")
	}
	switch p.Protocol {
	case MQTT5, MQTT311, ProtocolAuto:
	default:
		return fmt.Errorf("protocol %q: must be %q, %q or %q (automatic)", p.Protocol, MQTT5, MQTT311, ProtocolAuto)
	}
	return nil
}
