package saved

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fileVersion lets a later release migrate either file.
const fileVersion = 1

// readFile decodes path into v (a struct with a Version field); a missing
// file leaves v as it is and reports false.
func readFile(path, what string, v any, version func() int) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the %s file %s: %w", what, path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("the %s file %s cannot be read: %w; fix it, or move it aside to start with none (IoT Studio will not overwrite it)", what, path, describeJSONError(b, err))
	}
	if got := version(); got != fileVersion {
		return false, fmt.Errorf("the %s file %s has version %d; this IoT Studio reads version %d (move it aside to start with none)", what, path, got, fileVersion)
	}
	return true, nil
}

// describeJSONError adds the line and column of a syntax error.
func describeJSONError(b []byte, err error) error {
	if line, col, ok := JSONErrorAt(b, err); ok {
		return fmt.Errorf("line %d, column %d: %w", line, col, err)
	}
	return err
}

// JSONErrorAt finds where in b the *json.SyntaxError err (from decoding b)
// is, as a 1-based line and column counted in characters, so that a person
// can find it in an editor.
func JSONErrorAt(b []byte, err error) (line, col int, ok bool) {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return 0, 0, false
	}
	// Offset counts the bytes read, the offending one included.
	at := min(max(int(se.Offset)-1, 0), len(b))
	line, col = 1, 1
	for _, r := range string(b[:at]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col, true
}

// writeFile replaces path with v as JSON atomically: a crash leaves the old
// file or the new one, never half of one.
func writeFile(path, what string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the %s: %w", what, err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("save the %s: %w", what, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save the %s: %w", what, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save the %s to %s: %w", what, path, err)
	}
	return nil
}
