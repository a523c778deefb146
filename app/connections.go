package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/connections"
)

const connectionsUsage = `usage: iotstudio connections list
       iotstudio connections export FILE
       iotstudio connections import FILE
       iotstudio connections add --preset PRESET --name NAME [preset flags]
       iotstudio connections remove NAME
flags: --data DIR (all)
presets: custom (--url, --user), aws-iot-core (--host ENDPOINT --cert FILE --key FILE [--thing NAME] [--ca FILE] [--aws-443]),
         azure-iot-hub (--hub HUB --device ID [--token-lifetime 1h]),
         yandex-iot-core (--device ID or --registry ID; --cert FILE --key FILE, else the ID and the password from $` + replayPasswordEnv + `; [--ca FILE]),
         emqx-cloud and hivemq-cloud (--host HOST --user NAME [--ca FILE]),
         local (--url mqtt://HOST:PORT of the embedded broker)
add also takes --protocol auto|5|3.1.1 (default auto but local: 5, azure-iot-hub and yandex-iot-core: 3.1.1), --client-id ID,
--clean-start=false, --session-expiry DURATION, --insecure and --subscribe FILTER (repeatable). The password for --user is read from $` + replayPasswordEnv + `
and kept in the OS keyring; profiles and exports never hold secrets.`

// connectionsKeyring is where the connections commands keep secrets;
// tests swap it so as never to touch the real OS keyring.
var connectionsKeyring client.Keyring = client.OSKeyring{}

func runConnections(args []string, e env) error {
	if len(args) == 0 {
		return usagef("%s", connectionsUsage)
	}
	switch args[0] {
	case "list":
		return connectionsList(args[1:], e)
	case "export":
		return connectionsExport(args[1:], e)
	case "import":
		return connectionsImport(args[1:], e)
	case "add":
		return connectionsAdd(args[1:], e)
	case "remove":
		return connectionsRemove(args[1:], e)
	}
	return usagef("unknown connections command %q\n%s", args[0], connectionsUsage)
}

// parseWithArgs parses fs from args, letting flags come before or after
// the want positional arguments, and returns those.
func parseWithArgs(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != want {
		if want == 0 {
			return nil, usagef("%s: unexpected argument %q", fs.Name(), pos[0])
		}
		return nil, usagef("%s: give %s (got %d arguments: %s)\n%s", fs.Name(), what, len(pos), strings.Join(pos, " "), connectionsUsage)
	}
	return pos, nil
}

// profilesIn opens the profiles of a data dir.
func profilesIn(data string) (*client.Store, []client.Profile, error) {
	dir, err := dataDir(data)
	if err != nil {
		return nil, nil, err
	}
	store := client.NewStore(dir)
	ps, err := store.Load()
	return store, ps, err
}

func connectionsList(args []string, e env) error {
	fs := newFlagSet("connections list", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	if _, err := parseWithArgs(fs, args, 0, ""); err != nil {
		return err
	}
	_, ps, err := profilesIn(*data)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(e.stderr, "no saved connections (add one with: iotstudio connections add, or in the window)")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tPROTOCOL\tUSER\tPRESET\tSUBSCRIBES")
	for _, p := range ps {
		url := p.URL
		if p.ID == connections.LocalID {
			url = "(the embedded broker)"
		}
		filters := make([]string, len(p.Subscribe))
		for i, sub := range p.Subscribe {
			filters[i] = sub.Filter
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, url, protocolLabel(p.Protocol), orDash(p.Username), orDash(string(p.Preset)), orDash(strings.Join(filters, " ")))
	}
	return tw.Flush()
}

// protocolLabel is how a saved profile's protocol reads in a list.
func protocolLabel(p client.Protocol) string {
	if p == client.ProtocolAuto {
		return "MQTT auto"
	}
	return "MQTT " + string(p)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func connectionsExport(args []string, e env) error {
	fs := newFlagSet("connections export", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	pos, err := parseWithArgs(fs, args, 1, "the FILE to write")
	if err != nil {
		return err
	}
	_, ps, err := profilesIn(*data)
	if err != nil {
		return err
	}
	// The built-in local profile points at this machine's broker.
	ps = slices.DeleteFunc(ps, func(p client.Profile) bool { return p.ID == connections.LocalID })
	if err := writeFileAtomically(pos[0], func(w io.Writer) error { return client.Export(w, ps) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d connections to %s, without secrets (passwords, passphrases and device keys stay in the keyring)\n", len(ps), pos[0])
	return nil
}

// writeFileAtomically writes path through a temporary file, so a failure
// leaves any existing file as it was.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".iotstudio-export-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func connectionsImport(args []string, e env) error {
	fs := newFlagSet("connections import", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	pos, err := parseWithArgs(fs, args, 1, "the FILE to import (as connections export writes it)")
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return usagef("connections import: %v", err)
	}
	defer f.Close()
	in, err := client.Import(f)
	if err != nil {
		return usagef("%s: %v", pos[0], err)
	}
	store, ps, err := profilesIn(*data)
	if err != nil {
		return err
	}
	used := takenNames(ps)
	for i := range in {
		name := in[i].Name
		for n := 2; used[strings.ToLower(in[i].Name)]; n++ {
			in[i].Name = fmt.Sprintf("%s (%d)", name, n)
		}
		used[strings.ToLower(in[i].Name)] = true
		if in[i].Name != name {
			fmt.Fprintf(e.stderr, "%q is taken: imported as %q\n", name, in[i].Name)
		}
	}
	if err := store.Save(append(ps, in...)); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "imported %d connections; their secrets are not in the file and are asked for at connect\n", len(in))
	return nil
}

// takenNames are the names new profiles cannot have: those of ps, and
// the embedded broker's own source name (trees and captures are kept
// apart by name).
func takenNames(ps []client.Profile) map[string]bool {
	used := map[string]bool{broker.SourceBroker: true, strings.ToLower(connections.LocalName): true}
	for _, p := range ps {
		used[strings.ToLower(p.Name)] = true
	}
	return used
}

func connectionsRemove(args []string, e env) error {
	fs := newFlagSet("connections remove", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	pos, err := parseWithArgs(fs, args, 1, "the NAME of the connection to remove")
	if err != nil {
		return err
	}
	store, ps, err := profilesIn(*data)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ps, func(p client.Profile) bool { return p.Name == pos[0] })
	switch {
	case i < 0:
		return usagef("connections remove: no connection named %q (see: iotstudio connections list)", pos[0])
	case ps[i].ID == connections.LocalID:
		return usagef("connections remove: %q is the embedded broker's connection; it is always there", pos[0])
	}
	gone := ps[i]
	if err := store.Save(slices.Delete(ps, i, i+1)); err != nil {
		return err
	}
	if err := client.NewSecrets(connectionsKeyring).Forget(gone.ID); err != nil && !errors.Is(err, client.ErrKeyringUnavailable) {
		fmt.Fprintf(e.stderr, "removed %q, but its secrets could not be removed from the keyring: %v\n", gone.Name, err)
		return nil
	}
	fmt.Fprintf(e.stderr, "removed %q\n", gone.Name)
	return nil
}

// addFlags are what connections add reads.
type addFlags struct {
	preset, name, url, host, user, thing, cert, key, ca, hub, device, protocol, clientID *string
	registry                                                                             *string // Yandex IoT Core
	aws443, insecure                                                                     *bool
	lifetime                                                                             *time.Duration
	session                                                                              sessionFlags
	// subscribe replaces the preset's subscribe-on-connect filters when
	// set (an empty --subscribe "" means none).
	subscribe *[]string
}

func connectionsAdd(args []string, e env) error {
	fs := newFlagSet("connections add", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	f := addFlags{
		preset:   fs.String("preset", "", "`PRESET`: custom, aws-iot-core, azure-iot-hub, yandex-iot-core, emqx-cloud, hivemq-cloud or local"),
		name:     fs.String("name", "", "the connection's `NAME`"),
		url:      fs.String("url", "", "broker `URL` (custom, local)"),
		host:     fs.String("host", "", "broker `HOST`: the AWS endpoint or the EMQX/HiveMQ cluster host"),
		user:     fs.String("user", "", "user `NAME`; the password is read from $"+replayPasswordEnv),
		thing:    fs.String("thing", "", "AWS thing `NAME` (the client ID)"),
		cert:     fs.String("cert", "", "client certificate `FILE` (PEM)"),
		key:      fs.String("key", "", "client private key `FILE` (PEM)"),
		ca:       fs.String("ca", "", "trust the CA certificates in `FILE` instead of the system's"),
		hub:      fs.String("hub", "", "Azure IoT `HUB` host name"),
		device:   fs.String("device", "", "Azure or Yandex device `ID`"),
		registry: fs.String("registry", "", "Yandex registry `ID` (instead of --device: the connection acts as the registry)"),
		protocol: fs.String("protocol", "", "MQTT `VERSION`: auto, 5 or 3.1.1 (default: the preset's)"),
		clientID: fs.String("client-id", "", "client `ID` (default: a unique one per connection)"),
		aws443:   fs.Bool("aws-443", false, "AWS: port 443 with ALPN "+client.AWSALPN),
		insecure: fs.Bool("insecure", false, "do not check the broker's certificate (anyone in between can read and change the traffic)"),
		lifetime: fs.Duration("token-lifetime", time.Hour, "Azure SAS token `LIFETIME`"),
		session:  addSessionFlags(fs),
	}
	fs.Func("subscribe", "`FILTER` to subscribe to at every connect, repeatable; replaces the preset's (custom, EMQX, HiveMQ: #); \"\" for none",
		func(v string) error {
			if f.subscribe == nil {
				f.subscribe = &[]string{}
			}
			if v != "" {
				*f.subscribe = append(*f.subscribe, v)
			}
			return nil
		})
	if _, err := parseWithArgs(fs, args, 0, ""); err != nil {
		return err
	}
	p, err := f.profile()
	if err != nil {
		return err
	}
	store, ps, err := profilesIn(*data)
	if err != nil {
		return err
	}
	if takenNames(ps)[strings.ToLower(p.Name)] {
		return usagef("connections add: the name %q is taken; choose another --name", p.Name)
	}
	if pw := os.Getenv(replayPasswordEnv); pw != "" && p.HasPassword {
		if err := client.NewSecrets(connectionsKeyring).Set(p.ID, client.SecretPassword, pw); err != nil {
			fmt.Fprintf(e.stderr, "the password of %q is not saved (%v); the app asks for it at connect, and connect --profile reads $%s\n", p.Name, err, replayPasswordEnv)
		}
	}
	if err := store.Save(append(ps, p)); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "added %q: %s (%s)\n", p.Name, p.URL, protocolLabel(p.Protocol))
	return nil
}

// profile builds the profile the flags describe.
func (f addFlags) profile() (client.Profile, error) {
	if *f.preset == "" {
		return client.Profile{}, usagef("connections add: --preset is required\n%s", connectionsUsage)
	}
	kind := client.PresetKind(*f.preset)
	in := client.PresetInput{Name: *f.name, Host: *f.host, AWS443: *f.aws443, ThingName: *f.thing, CertFile: *f.cert,
		KeyFile: *f.key, CAFile: *f.ca, Hub: *f.hub, Device: *f.device, Registry: *f.registry, TokenLifetime: *f.lifetime, Username: *f.user}
	switch kind {
	case client.PresetGeneric:
		in.Host = *f.url
	case client.PresetLocal:
		in.Addr = strings.TrimPrefix(*f.url, "mqtt://")
	}
	p, err := client.NewFromPreset(kind, in)
	if err != nil {
		return p, usagef("connections add: %v", err)
	}
	if *f.protocol != "" {
		if p.Protocol, err = parseProtocol(*f.protocol); err != nil {
			return p, err
		}
	}
	if *f.clientID != "" {
		p.ClientID = *f.clientID
	}
	if err := f.session.apply(&p); err != nil {
		return p, err
	}
	if kind == client.PresetGeneric || kind == client.PresetLocal {
		p.Username = *f.user
		p.HasPassword = *f.user != ""
		p.TLS.CAFile, p.TLS.CertFile, p.TLS.KeyFile = *f.ca, *f.cert, *f.key
	}
	p.TLS.Insecure = *f.insecure
	if f.subscribe != nil {
		p.Subscribe = nil
		for _, filter := range *f.subscribe {
			p.Subscribe = append(p.Subscribe, client.Subscription{Filter: filter})
		}
	}
	if err := p.Validate(); err != nil {
		return p, usageError{err}
	}
	return p, nil
}
