package client

import (
	"fmt"

	"github.com/iotstudio/iotstudio/engine/message"
)

// CheckSubscription checks s as a SUBSCRIBE on a connection speaking
// proto would carry it: the filter (message.CheckFilter), QoS and retain
// handling in range, MQTT 5 options only on MQTT 5, and no-local not on a shared
// subscription, which the broker must treat as a protocol error and so
// close the connection [MQTT-3.8.3-4].
func CheckSubscription(s Subscription, proto Protocol) error {
	if err := message.CheckFilter(s.Filter); err != nil {
		return err
	}
	if s.QoS > 2 {
		return fmt.Errorf("QoS %d: choose 0, 1 or 2", s.QoS)
	}
	if s.RetainHandling > 2 {
		return fmt.Errorf("retain handling %d: choose 0 (send retained messages), 1 (only for a new subscription) or 2 (never)", s.RetainHandling)
	}
	if proto == MQTT311 && s.hasV5Options() {
		return fmt.Errorf("no-local, retain-as-published and retain handling are MQTT 5 options; this connection speaks MQTT 3.1.1: turn them off")
	}
	if _, _, shared := message.SharedFilter(s.Filter); shared && s.NoLocal {
		return fmt.Errorf("no-local cannot be set on a shared subscription ($share/…): the broker would close the connection [MQTT-3.8.3-4]; turn no-local off")
	}
	return nil
}
