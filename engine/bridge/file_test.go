package bridge

import (
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/client"
)

var savedForTests = []client.Profile{
	{ID: "a", Name: "Plant EMQX", URL: "mqtt://127.0.0.1:1", Protocol: client.MQTT5},
	{ID: "b", Name: "Old mosquitto", URL: "mqtt://127.0.0.1:2", Protocol: client.MQTT311},
}

func TestParseExample(t *testing.T) {
	plans, err := LoadFile("../../testdata/bridge/example.yaml", savedForTests)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 || len(plans[0].Config.Rules) != 2 || plans[0].Profile.Name != "Plant EMQX" {
		t.Fatalf("plans = %+v", plans)
	}
}

func TestParseErrorsHaveLines(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // each must appear in the error
	}{
		{"unknown direction", `bridges:
  - name: b
    connection: Plant EMQX
    rules:
      - direction: sideways
        local: a/#
        remote: b/#
`, []string{"f.yaml:5:", `unknown direction "sideways"`, "out", "in", "both"}},
		{"invalid filter", `bridges:
  - name: b
    connection: Plant EMQX
    rules:
      - direction: out
        local: a/#/b
        remote: b/#
`, []string{"f.yaml:6:", `local topic filter "a/#/b"`, "#"}},
		{"unknown connection", `bridges:
  - name: b
    connection: Nowhere
    rules:
      - direction: out
        local: a/#
        remote: b/#
`, []string{"f.yaml:3:", `no saved connection is named "Nowhere"`, `"Plant EMQX"`, `"Old mosquitto"`}},
		{"unknown field", `bridges:
  - name: b
    connection: Plant EMQX
    rules:
      - direction: out
        local: a/#
        remote: b/#
        qso: 1
`, []string{"f.yaml:8:", "qso"}},
		{"mapping mismatch", `bridges:
  - name: b
    connection: Plant EMQX
    rules:
      - direction: out
        local: a/+/x
        remote: b/#
`, []string{"f.yaml:7:", "does not map onto"}},
		{"syntax", "bridges:\n  - name: [b\n", []string{"f.yaml:"}},
		{"loop on 3.1.1", `bridges:
  - name: b
    connection: Old mosquitto
    rules:
      - name: mirror
        direction: both
        local: plant/#
        remote: site1/plant/#
`, []string{"f.yaml:8:", `rule "mirror" would loop`, "site1/plant/#", "MQTT 3.1.1"}},
		{"two rules loop on 3.1.1", `bridges:
  - name: b
    connection: Old mosquitto
    rules:
      - name: up
        direction: out
        local: plant/#
        remote: site1/#
      - name: down
        direction: in
        local: cmd/#
        remote: site1/cmd/#
`, []string{"f.yaml:12:", `rule "up" and rule "down" would loop`, "site1/#", "site1/cmd/#"}},
		{"two bridges loop in any version", `bridges:
  - name: up
    connection: Plant EMQX
    rules:
      - direction: out
        local: plant/#
        remote: site1/plant/#
  - name: down
    connection: Plant EMQX
    rules:
      - direction: in
        local: plant/#
        remote: site1/#
`, []string{"f.yaml:13:", `bridges "up" and "down" would loop`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml), savedForTests)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestMQTT5BothDirectionsAccepted(t *testing.T) {
	_, err := Parse("f.yaml", []byte(`bridges:
  - name: b
    connection: Plant EMQX
    rules:
      - direction: both
        local: plant/#
        remote: site1/plant/#
`), savedForTests)
	if err != nil {
		t.Fatal(err)
	}
}

func TestMapping(t *testing.T) {
	for _, tc := range []struct{ from, to, topic, want string }{
		{"plant/#", "site1/plant/#", "plant/a/b", "site1/plant/a/b"},
		{"plant/#", "site1/plant/#", "plant", "site1/plant"},
		{"site1/plant/#", "plant/#", "site1/plant/x", "plant/x"},
		{"#", "site1/#", "x/y", "site1/x/y"},
		{"site1/#", "#", "site1/x/y", "x/y"},
		{"a/+/t", "b/c/+/t", "a/z/t", "b/c/z/t"},
		{"a/b", "c", "a/b", "c"},
	} {
		got, ok := mappingOf(tc.from, tc.to).apply(tc.topic)
		if !ok || got != tc.want {
			t.Errorf("%s -> %s: %s became %q, want %q", tc.from, tc.to, tc.topic, got, tc.want)
		}
	}
	if _, ok := mappingOf("site1/#", "#").apply("site1"); ok {
		t.Error("site1 under site1/# -> # mapped to an empty topic")
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a/#", "a/b", true}, {"a/+", "a/b/c", false}, {"a/+/c", "a/b/+", true},
		{"x/#", "y/#", false}, {"#", "anything", true}, {"a", "a/b", false}, {"a/#", "a", true},
	} {
		if got := overlap(tc.a, tc.b); got != tc.want {
			t.Errorf("overlap(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

// A bridge's name names its queue's directory: it must stay inside
// DATA/bridges.
func TestBridgeNameCannotLeaveTheQueueDir(t *testing.T) {
	for _, name := range []string{"..", ".", "a/../../x", `a\b`} {
		y := "bridges:\n  - name: '" + name + "'\n    connection: Plant EMQX\n    rules:\n      - direction: out\n        local: a/#\n        remote: b/#\n"
		_, err := Parse("f.yaml", []byte(y), savedForTests)
		if err == nil || !strings.Contains(err.Error(), "f.yaml:2:") || !strings.Contains(err.Error(), "name") {
			t.Errorf("name %q: err = %v, want it refused at line 2", name, err)
		}
	}
}
