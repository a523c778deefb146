package client

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// PresetKind names a preset.
type PresetKind string

const (
	PresetLocal   PresetKind = "local"
	PresetAWS     PresetKind = "aws-iot-core"
	PresetAzure   PresetKind = "azure-iot-hub"
	PresetEMQX    PresetKind = "emqx-cloud"
	PresetHiveMQ  PresetKind = "hivemq-cloud"
	PresetYandex  PresetKind = "yandex-iot-core"
	PresetGeneric PresetKind = "custom"
)

// YandexHost is Yandex IoT Core's MQTT server.
const YandexHost = "mqtt.cloud.yandex.net"

// PresetInput is what a person types for a preset; each preset uses some.
type PresetInput struct {
	Name string
	// Host is the broker's host name (AWS: the account's ATS endpoint;
	// EMQX/HiveMQ: the cluster host); the local preset takes Addr instead.
	Host string
	// Addr is the embedded broker's MQTT listener, HOST:PORT.
	Addr string
	// AWS443 connects to AWS IoT Core on port 443 using ALPN x-amzn-mqtt-ca
	// (for networks that only let HTTPS out).
	AWS443 bool
	// ThingName becomes the AWS client ID (policies often match on it).
	ThingName string
	// CertFile, KeyFile, CAFile: the device certificate, its key and, for
	// AWS, Amazon's root CA (system roots are used when empty).
	CertFile, KeyFile, CAFile string
	// Hub (e.g. myhub.azure-devices.net) and Device for Azure IoT Hub;
	// Device or Registry (one of them) for Yandex IoT Core.
	Hub, Device, Registry string
	// TokenLifetime for Azure SAS tokens; default 1 h.
	TokenLifetime time.Duration
	Username      string
}

// AWSALPN is the protocol AWS IoT Core wants for MQTT with a client
// certificate on port 443.
const AWSALPN = "x-amzn-mqtt-ca"

// NewFromPreset fills a profile for kind. The result still needs its
// secrets (password, device key) stored separately.
func NewFromPreset(kind PresetKind, in PresetInput) (Profile, error) {
	p := Profile{ID: NewID(), Name: in.Name, Protocol: MQTT5, CleanStart: true, KeepAlive: DefaultKeepAlive, Preset: kind}
	need := func(what, v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("%s preset: give the %s", kind, what)
		}
		return nil
	}
	switch kind {
	case PresetLocal:
		if err := need("embedded broker's address", in.Addr); err != nil {
			return Profile{}, err
		}
		if _, _, err := net.SplitHostPort(in.Addr); err != nil {
			return Profile{}, fmt.Errorf("local preset: the embedded broker's address %q is not HOST:PORT", in.Addr)
		}
		p.URL = "mqtt://" + in.Addr
		p.Name = orDefault(p.Name, "Local broker")
	case PresetAWS:
		if err := errors.Join(need("endpoint host", in.Host), need("device certificate file", in.CertFile), need("private key file", in.KeyFile)); err != nil {
			return Profile{}, err
		}
		port := "8883"
		if in.AWS443 {
			port = "443"
			p.TLS.ALPN = []string{AWSALPN}
		}
		p.URL = "mqtts://" + net.JoinHostPort(in.Host, port)
		p.TLS.CertFile, p.TLS.KeyFile, p.TLS.CAFile = in.CertFile, in.KeyFile, in.CAFile
		// AWS policies usually allow iot:Connect for the thing's name only.
		p.ClientID = in.ThingName
		p.Name = orDefault(p.Name, "AWS IoT Core")
	case PresetAzure:
		if err := errors.Join(need("hub host name", in.Hub), need("device ID", in.Device)); err != nil {
			return Profile{}, err
		}
		hub := in.Hub
		if !strings.Contains(hub, ".") {
			hub += ".azure-devices.net"
		}
		life := in.TokenLifetime
		if life <= 0 {
			life = time.Hour
		}
		// IoT Hub speaks MQTT 3.1.1 with the device ID as client ID, TLS on
		// 8883, the user name built from hub and device, and a SAS token as
		// the password.
		p.Protocol = MQTT311
		p.URL = "mqtts://" + net.JoinHostPort(hub, "8883")
		p.ClientID = in.Device
		p.Azure = &AzureAuth{Hub: hub, Device: in.Device, TokenLifetime: Duration(life)}
		p.Username = p.Azure.Username()
		p.TLS.CAFile = in.CAFile
		// What the hub sends the device (cloud-to-device messages); the
		// hub refuses any other filter.
		p.Subscribe = []Subscription{{Filter: "devices/" + in.Device + "/messages/devicebound/#", QoS: 1}}
		p.Name = orDefault(p.Name, "Azure IoT Hub: "+in.Device)
	case PresetYandex:
		if err := yandexPreset(&p, in); err != nil {
			return Profile{}, err
		}
	case PresetEMQX, PresetHiveMQ:
		if err := errors.Join(need("cluster host", in.Host), need("user name", in.Username)); err != nil {
			return Profile{}, err
		}
		p.URL = "mqtts://" + net.JoinHostPort(in.Host, "8883")
		p.Username = in.Username
		p.HasPassword = true
		p.TLS.CAFile = in.CAFile
		p.Name = orDefault(p.Name, map[PresetKind]string{PresetEMQX: "EMQX Cloud", PresetHiveMQ: "HiveMQ Cloud"}[kind])
		p.Subscribe = wholeBroker()
	case PresetGeneric:
		if err := need("URL", in.Host); err != nil {
			return Profile{}, err
		}
		p.URL = in.Host
		// Any broker: one that speaks only 3.1.1 (ActiveMQ, RabbitMQ
		// before 3.13) then works at the first try. The cloud presets
		// know their broker's protocol; AWS IoT Core, for one, hangs up
		// without a CONNACK on a refused connect, which must not read as
		// "speaks only 3.1.1".
		p.Protocol = ProtocolAuto
		p.Username = in.Username
		p.Name = orDefault(p.Name, in.Host)
		p.Subscribe = wholeBroker()
	default:
		return Profile{}, fmt.Errorf("unknown preset %q", kind)
	}
	return p, nil
}

// yandexPreset fills p for Yandex IoT Core, as a device or as a registry
// (each logs in by its own certificate, or by its ID and password).
func yandexPreset(p *Profile, in PresetInput) error {
	device, registry := strings.TrimSpace(in.Device), strings.TrimSpace(in.Registry)
	if (device == "") == (registry == "") {
		return fmt.Errorf("%s preset: give the device ID or the registry ID (one of them): the connection acts as that device or registry", PresetYandex)
	}
	if (in.CertFile == "") != (in.KeyFile == "") {
		return fmt.Errorf("%s preset: the certificate and its private key go together; give both files, or neither to log in by ID and password", PresetYandex)
	}
	// Yandex IoT Core speaks MQTT 3.1.1 on 8883, with a certificate signed
	// by its own root CA.
	p.Protocol = MQTT311
	p.URL = "mqtts://" + net.JoinHostPort(YandexHost, "8883")
	p.TLS.BuiltinCA, p.TLS.CAFile = BuiltinYandex, in.CAFile
	p.TLS.CertFile, p.TLS.KeyFile = in.CertFile, in.KeyFile
	id := device
	if device != "" {
		// What the registry sends the device; the device's own data goes
		// to its events (telemetry) and state topics.
		p.Subscribe = []Subscription{{Filter: "$devices/" + device + "/commands", QoS: 1}}
		p.Templates = []Template{
			{Name: "events", Topic: "$devices/" + device + "/events", QoS: 1},
			{Name: "state", Topic: "$devices/" + device + "/state", QoS: 1},
		}
		p.Name = orDefault(p.Name, "Yandex IoT Core: "+device)
	} else {
		id = registry
		// What the registry's devices send; commands go the other way.
		p.Subscribe = []Subscription{{Filter: "$registries/" + registry + "/events", QoS: 1}}
		p.Templates = []Template{{Name: "commands", Topic: "$registries/" + registry + "/commands", QoS: 1}}
		p.Name = orDefault(p.Name, "Yandex IoT Core: registry "+registry)
	}
	if in.CertFile == "" {
		// The login is the device's or the registry's ID; its password is
		// set in the Yandex Cloud console.
		p.Username, p.HasPassword = id, true
	}
	return nil
}

// wholeBroker is what MQTT Explorer subscribes to as well: every topic,
// so the tree shows the broker as it is. AWS IoT policies usually refuse
// it, and the local broker's tree comes from the broker itself, so those
// presets subscribe to nothing.
func wholeBroker() []Subscription { return []Subscription{{Filter: "#"}} }

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}
