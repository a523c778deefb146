package app

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
)

// mapKeyring stands in for the OS keyring.
type mapKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *mapKeyring) Get(a string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[a]
	if !ok {
		return "", client.ErrSecretNotFound
	}
	return v, nil
}

func (k *mapKeyring) Set(a, s string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[a] = s
	return nil
}

func (k *mapKeyring) Delete(a string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, a)
	return nil
}

func (k *mapKeyring) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

func useTestKeyring(t *testing.T) *mapKeyring {
	t.Helper()
	kr := &mapKeyring{m: map[string]string{}}
	old := connectionsKeyring
	connectionsKeyring = kr
	t.Cleanup(func() { connectionsKeyring = old })
	return kr
}

func mustRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runInProcess(args, "")
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout, stderr
}

func TestConnectionsAddListExportImportRemove(t *testing.T) {
	kr := useTestKeyring(t)
	data, other := t.TempDir(), t.TempDir()
	t.Setenv(replayPasswordEnv, "hunter2-secret")
	mustRun(t, "connections", "add", "--preset", "custom", "--name", "Plant", "--url", "mqtt://10.0.0.5:1883", "--user", "op", "--data", data)
	mustRun(t, "connections", "add", "--data", data, "--preset", "azure-iot-hub", "--hub", "plant-hub", "--device", "press-7")
	mustRun(t, "connections", "add", "--data", data, "--preset", "custom", "--name", "Quiet", "--url", "mqtt://10.0.0.6:1883", "--subscribe", "")
	mustRun(t, "connections", "add", "--data", data, "--preset", "custom", "--name", "Lines", "--url", "mqtt://10.0.0.7:1883", "--subscribe", "line/1/#", "--subscribe", "line/2/#")
	if kr.len() != 1 {
		t.Errorf("the keyring holds %d secrets, want Plant's password", kr.len())
	}

	out, _ := mustRun(t, "connections", "list", "--data", data)
	for _, want := range []string{"Plant", "mqtt://10.0.0.5:1883", "op", "Azure IoT Hub: press-7", "mqtts://plant-hub.azure-devices.net:8883", "MQTT 3.1.1", "plant-hub.azure-devices.net/press-7/?api-version=2021-04-12",
		"devices/press-7/messages/devicebound/#", "line/1/# line/2/#"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	// What each one subscribes to at connect: the preset's, none, or the flags'.
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		last := f[len(f)-1]
		switch f[0] {
		case "Plant":
			if last != "#" {
				t.Errorf("Plant subscribes to %q, want #: %s", last, line)
			}
		case "Quiet":
			if last != "-" {
				t.Errorf("Quiet subscribes to %q, want none: %s", last, line)
			}
		}
	}

	file := filepath.Join(t.TempDir(), "conns.json")
	_, stderr := mustRun(t, "connections", "export", file, "--data", data)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), `"Plant"`) || !strings.Contains(stderr, "without secrets") {
		t.Errorf("export (stderr %q):\n%s", stderr, b)
	}

	mustRun(t, "connections", "import", "--data", other, file)
	_, stderr = mustRun(t, "connections", "import", file, "--data", other)
	if !strings.Contains(stderr, `"Plant" is taken: imported as "Plant (2)"`) {
		t.Errorf("a second import says %q", stderr)
	}
	out, _ = mustRun(t, "connections", "list", "--data", other)
	if strings.Count(out, "\n") != 9 || !strings.Contains(out, "Plant (2)") || !strings.Contains(out, "line/1/# line/2/#") {
		t.Errorf("after two imports:\n%s", out)
	}

	mustRun(t, "connections", "remove", "Plant", "--data", data)
	out, _ = mustRun(t, "connections", "list", "--data", data)
	if strings.Contains(out, "Plant") || kr.len() != 0 {
		t.Errorf("after remove (%d secrets left):\n%s", kr.len(), out)
	}
}

func TestConnectionsAddAWSOn443(t *testing.T) {
	useTestKeyring(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data := t.TempDir()
	mustRun(t, "connections", "add", "--data", data, "--preset", "aws-iot-core", "--host", "abc-ats.iot.eu-west-1.amazonaws.com",
		"--cert", cert, "--key", key, "--thing", "press-7", "--aws-443")
	ps, err := client.NewStore(data).Load()
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v, %+v", err, ps)
	}
	if p := ps[0]; p.URL != "mqtts://abc-ats.iot.eu-west-1.amazonaws.com:443" || len(p.TLS.ALPN) != 1 || p.TLS.ALPN[0] != client.AWSALPN || p.ClientID != "press-7" {
		t.Errorf("saved %+v", p)
	}
}

// connections add makes Yandex IoT Core profiles as the window does: a
// device by ID and password (read from the environment), a registry by
// certificate.
func TestConnectionsAddYandex(t *testing.T) {
	kr := useTestKeyring(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data := t.TempDir()
	t.Setenv(replayPasswordEnv, "yx-secret")
	mustRun(t, "connections", "add", "--data", data, "--preset", "yandex-iot-core", "--device", "are-dev1")
	t.Setenv(replayPasswordEnv, "")
	mustRun(t, "connections", "add", "--data", data, "--preset", "yandex-iot-core", "--registry", "are-reg1", "--cert", cert, "--key", key)
	ps, err := client.NewStore(data).Load()
	if err != nil || len(ps) != 2 {
		t.Fatalf("%v, %+v", err, ps)
	}
	dev, reg := ps[0], ps[1]
	if dev.URL != "mqtts://mqtt.cloud.yandex.net:8883" || dev.Username != "are-dev1" || !dev.HasPassword || dev.TLS.BuiltinCA != client.BuiltinYandex ||
		len(dev.Subscribe) != 1 || dev.Subscribe[0].Filter != "$devices/are-dev1/commands" {
		t.Errorf("device saved as %+v", dev)
	}
	if kr.len() != 1 {
		t.Errorf("%d secrets in the keyring, want the device's password", kr.len())
	}
	if reg.Username != "" || reg.HasPassword || reg.TLS.CertFile != cert || reg.TLS.KeyFile != key ||
		len(reg.Subscribe) != 1 || reg.Subscribe[0].Filter != "$registries/are-reg1/events" {
		t.Errorf("registry saved as %+v", reg)
	}
}

func TestConnectionsBadInput(t *testing.T) {
	useTestKeyring(t)
	data := t.TempDir()
	mustRun(t, "connections", "add", "--preset", "custom", "--name", "Plant", "--url", "mqtt://10.0.0.5:1883", "--data", data)
	notJSON := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notJSON, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"connections"}, "usage: iotstudio connections list"},
		{[]string{"connections", "rename"}, `unknown connections command "rename"`},
		{[]string{"connections", "list", "--colour"}, "flag provided but not defined: -colour"},
		{[]string{"connections", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"connections", "export"}, "give the FILE to write"},
		{[]string{"connections", "import", "a", "b"}, "got 2 arguments"},
		{[]string{"connections", "import", filepath.Join(data, "missing.json")}, "no such file"},
		{[]string{"connections", "import", notJSON}, "not a connections file"},
		{[]string{"connections", "add", "--name", "x"}, "--preset is required"},
		{[]string{"connections", "add", "--preset", "mosquitto"}, `unknown preset "mosquitto"`},
		{[]string{"connections", "add", "--preset", "azure-iot-hub", "--hub", "h"}, "give the device ID"},
		{[]string{"connections", "add", "--preset", "custom", "--url", "http://x"}, "URL"},
		{[]string{"connections", "add", "--preset", "custom", "--url", "mqtt://x:1", "--protocol", "4.0"}, `--protocol "4.0"`},
		{[]string{"connections", "add", "--preset", "custom", "--url", "mqtt://x:1", "--insecure"}, "TLS settings apply to mqtts:// and wss:// URLs only"},
		{[]string{"connections", "add", "--preset", "custom", "--name", "plant", "--url", "mqtt://x:1"}, `the name "plant" is taken`},
		{[]string{"connections", "add", "--preset", "custom", "--name", "broker", "--url", "mqtt://x:1"}, `the name "broker" is taken`},
		{[]string{"connections", "remove", "Nope"}, `no connection named "Nope"`},
		{[]string{"connections", "add", "--preset", "custom", "--url", "mqtt://x:1", "--subscribe", "a/#/b"}, "must be the last level"},
	} {
		args := append(c.args, "--data", data)
		code, _, stderr := runInProcess(args, "")
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
	ps, err := client.NewStore(data).Load()
	if err != nil || len(ps) != 1 {
		t.Errorf("bad input changed the profiles: %v, %+v", err, ps)
	}
}

// connect --profile connects with a saved connection, its password from
// the keyring or the environment, and says which variable to set when it
// has none.
func TestConnectWithASavedProfile(t *testing.T) {
	useTestKeyring(t)
	addr := brokertest.Start(t).Addr
	data := t.TempDir()
	t.Setenv(replayPasswordEnv, "s3cret")
	mustRun(t, "connections", "add", "--data", data, "--preset", "custom", "--name", "Lab", "--url", "mqtt://"+addr, "--user", "op")
	os.Unsetenv(replayPasswordEnv) // from the keyring from now on
	_, stderr := mustRun(t, "connect", "--profile", "Lab", "--data", data, "--pub", "lab/door", "--message", "open")
	if !strings.Contains(stderr, "connected to mqtt://"+addr) || !strings.Contains(stderr, "published 4 bytes to lab/door") {
		t.Errorf("connect --profile: %q", stderr)
	}

	connectionsKeyring = &mapKeyring{m: map[string]string{}} // the password is not there
	code, _, stderr := runInProcess([]string{"connect", "--profile", "Lab", "--data", data, "--pub", "a", "--message", "b"}, "")
	if code != 2 || !strings.Contains(stderr, "set it in $"+replayPasswordEnv) {
		t.Errorf("without the password: exit %d, %q", code, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "Lab", "--url", "mqtt://x:1"}, "--profile and --url"},
		{[]string{"--profile", "Nope"}, `no saved connection named "Nope"`},
	} {
		code, _, stderr := runInProcess(append([]string{"connect", "--data", data, "--pub", "a"}, c.args...), "")
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, stderr)
		}
	}
}
