package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// object is a JSON object with its keys in the order the payload had them:
// the inferred Fields keep that order, which a map would lose.
type object []member

type member struct {
	key string
	val any // object, []any, json.Number, string, bool or nil
}

// parseObject decodes a payload that is exactly one JSON object; ok is
// false for anything else (a bare number, an array, text, binary), which
// is then treated as a text or binary payload.
func parseObject(p []byte) (object, bool) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || p[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, false
	}
	if dec.InputOffset() != int64(len(p)) { // trailing data: not one object
		return nil, false
	}
	obj, ok := v.(object)
	return obj, ok
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return decodeObject(dec)
		case '[':
			return decodeArray(dec)
		}
		return nil, fmt.Errorf("unexpected %q", t)
	default:
		return t, nil // json.Number, string, bool or nil
	}
}

func decodeObject(dec *json.Decoder) (object, error) {
	obj := object{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		if seen[key] { // a duplicate key: the last one wins, as for encoding/json
			for i := range obj {
				if obj[i].key == key {
					obj[i].val = v
				}
			}
			continue
		}
		seen[key] = true
		obj = append(obj, member{key, v})
	}
	_, err := dec.Token() // '}'
	return obj, err
}

func decodeArray(dec *json.Decoder) ([]any, error) {
	arr := []any{}
	for dec.More() {
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	_, err := dec.Token() // ']'
	return arr, err
}

// plain turns a decoded value into what a scenario's choice or const
// holds: numbers as int64 or float64, objects as maps.
func plain(v any) any {
	switch t := v.(type) {
	case object:
		m := make(map[string]any, len(t))
		for _, kv := range t {
			m[kv.key] = plain(kv.val)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plain(x)
		}
		return out
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// jsonType names a decoded value's JSON type.
func jsonType(v any) string {
	switch v.(type) {
	case object:
		return "object"
	case []any:
		return "array"
	case json.Number:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return "null"
}
