package scenario_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/sim/scenario/internal/schemagen"
)

func TestSchemaIsUpToDate(t *testing.T) {
	want, err := schemagen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(scenario.Schema(), want) {
		t.Fatal("schema.json is stale: the types changed; run `go generate ./engine/sim/scenario` and commit schema.json")
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenario.Schema()))
	if err != nil {
		t.Fatalf("schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("scenario.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("scenario.json")
	if err != nil {
		t.Fatalf("schema.json is not a valid JSON Schema: %v", err)
	}
	return s
}

// asJSON reads YAML as the JSON value an editor validates.
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSchemaAcceptsGoodFiles(t *testing.T) {
	s := compileSchema(t)
	files, _ := filepath.Glob("testdata/good/*.yaml")
	if len(files) == 0 {
		t.Fatal("no good files")
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(asJSON(t, data)); err != nil {
			t.Errorf("%s: the schema rejects a file Parse accepts: %v", path, err)
		}
	}
}

func TestSchemaRejectsBadShapes(t *testing.T) {
	s := compileSchema(t)
	stream := "profiles:\n  - name: p\n    streams:\n      - name: s\n        topic: t\n"
	for name, yamlText := range map[string]string{
		"unknown generator": stream + "        every: 1s\n        fields: {x: {sinus: {min: 0, max: 1, period: 1m}}}\n",
		"two generators":    stream + "        every: 1s\n        fields: {x: {const: 1, bool: {p: 0.5}}}\n",
		"bad duration":      stream + "        every: fast\n        template: x\n",
		"bad ramp":          "fleets:\n  - {profile: p, count: 1, ramp: fast}\n",
		"qos 3":             stream + "        every: 1s\n        qos: 3\n        template: x\n",
		"missing every":     stream + "        template: x\n",
		"unknown key":       "fleets:\n  - {profile: p, count: 1, cout: 2}\n",
	} {
		if err := s.Validate(asJSON(t, []byte(yamlText))); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
		if _, err := scenario.Parse("x.yaml", []byte(yamlText)); err == nil {
			t.Errorf("%s: Parse accepts it", name)
		}
	}
	ok := stream + "        every: 1s\n        fields: {a: 1, b: {timestamp: unix_ms}, c: {choice: [x, y]}, d: {uuid: {}}, e: {approach: {start: 1, target: state.t, half_life: 1m}}}\nfleets:\n  - {profile: p, count: 1, ramp: 200/s}\n"
	if err := s.Validate(asJSON(t, []byte(ok))); err != nil {
		t.Errorf("the schema rejects the shorthands: %v", err)
	}
	if !strings.Contains(string(scenario.Schema()), `"description": "Per-device values fixed when the device is created, from generators seeded per device.`) {
		t.Error("a description with a comma was cut at the comma")
	}
}
