package device

import (
	"encoding/json"
	"fmt"
)

// ReplayValues turns a topic's captured payloads into what a replay field
// plays: each payload's JSON value at path, or with no path the payload
// itself (its JSON value, else its text). Payloads that are not JSON or
// lack the path are skipped; none left is an error that says why.
func ReplayValues(payloads [][]byte, path string) ([]any, error) {
	var p jsonPath
	if path != "" {
		var err error
		if p, err = parseJSONPath(path); err != nil {
			return nil, err
		}
	}
	var out []any
	for _, b := range payloads {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			if path == "" {
				out = append(out, string(b))
			}
			continue
		}
		if x, ok := p.get(v); ok {
			out = append(out, x)
		}
	}
	if len(out) == 0 && len(payloads) > 0 {
		return nil, fmt.Errorf("none of the %d captured payloads has a JSON value at %s", len(payloads), path)
	}
	return out, nil
}
