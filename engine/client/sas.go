package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// SASToken makes an Azure IoT Hub shared access signature for resourceURI
// (for a device: "{hub}.azure-devices.net/devices/{device}") that expires
// at expiry, signed with key (the base64 device key as the portal shows
// it). Microsoft's algorithm: HMAC-SHA256, keyed with the decoded key, over
// the URL-encoded resource URI, a newline and the expiry in Unix seconds;
// the signature is base64 and then URL-encoded into
// "SharedAccessSignature sr=…&sig=…&se=…". policy, when not empty, adds
// "&skn=policy" (hub-level policies; devices leave it empty).
func SASToken(resourceURI, key, policy string, expiry time.Time) (string, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", fmt.Errorf("the Azure device key is not base64 (%v); paste the primary or secondary key from the portal", err)
	}
	sr := url.QueryEscape(resourceURI)
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(sr + "\n" + se))
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	tok := "SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=" + se
	if policy != "" {
		tok += "&skn=" + url.QueryEscape(policy)
	}
	return tok, nil
}

// AzureAPIVersion is the IoT Hub MQTT API version the preset's user name asks for.
const AzureAPIVersion = "2021-04-12"

// Username is the MQTT user name IoT Hub expects from the device.
func (a AzureAuth) Username() string {
	return a.Hub + "/" + a.Device + "/?api-version=" + AzureAPIVersion
}

// Password generates a SAS token for the device, valid from now for the
// profile's lifetime.
func (a AzureAuth) Password(deviceKey string, now time.Time) (string, error) {
	if deviceKey == "" {
		return "", fmt.Errorf("no device key for Azure device %q: enter its primary key", a.Device)
	}
	return SASToken(a.Hub+"/devices/"+a.Device, deviceKey, "", now.Add(time.Duration(a.TokenLifetime)))
}

// EventsTopic is where the device sends telemetry.
func (a AzureAuth) EventsTopic() string { return "devices/" + a.Device + "/messages/events/" }

// CommandsFilter receives cloud-to-device messages.
func (a AzureAuth) CommandsFilter() string { return "devices/" + a.Device + "/messages/devicebound/#" }
