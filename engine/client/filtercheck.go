package client

import (
	"fmt"
	"strings"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// sharePrefix starts a shared subscription: $share/{group}/{filter}
// (MQTT 5 section 4.8.2; most MQTT 3.1.1 brokers accept it too).
const sharePrefix = "$share/"

// maxFilterLen is MQTT's limit on any UTF-8 string in a packet.
const maxFilterLen = 65535

// CheckFilter reports whether filter is a topic filter a broker must
// accept, and if not, what is wrong and where, in words a person can act
// on. It checks what the SUBSCRIBE would otherwise be refused (or the
// connection closed) for: an empty filter, the length limit, '#' and '+'
// that do not fill a level or '#' that is not last, and the $share syntax.
// The level rules are capture's (capture.ValidateFilter), so that a
// filter the subscribe panel accepts is one the capture can query.
func CheckFilter(filter string) error {
	if filter == "" {
		return fmt.Errorf("the topic filter is empty: enter at least one level, e.g. sensors/# (or # for every topic) [MQTT-4.7.3-1]")
	}
	if len(filter) > maxFilterLen {
		return fmt.Errorf("the topic filter is %d bytes long; MQTT allows at most %d", len(filter), maxFilterLen)
	}
	group, inner, shared := SharedFilter(filter)
	if !shared {
		return capture.ValidateFilter(filter)
	}
	switch {
	case group == "":
		return fmt.Errorf("shared subscription %q has no group name: write $share/GROUP/FILTER, e.g. $share/workers/sensors/#", filter)
	case strings.ContainsAny(group, "+#"):
		return fmt.Errorf("shared subscription %q: the group name %q cannot hold '+' or '#' [MQTT-4.8.2-2]", filter, group)
	case inner == "":
		return fmt.Errorf("shared subscription %q has no topic filter after the group: write $share/%s/FILTER, e.g. $share/%s/sensors/#", filter, group, group)
	}
	if err := capture.ValidateFilter(inner); err != nil {
		return fmt.Errorf("shared subscription %q, after $share/%s/: %w", filter, group, err)
	}
	return nil
}

// SharedFilter splits a $share/{group}/{filter} subscription into its
// group and the filter that topics are matched against. shared is false
// for an ordinary filter. A "$share/group" without a filter is shared with
// an empty inner filter (CheckFilter refuses it).
func SharedFilter(filter string) (group, inner string, shared bool) {
	rest, ok := strings.CutPrefix(filter, sharePrefix)
	if !ok {
		return "", filter, false
	}
	group, inner, _ = strings.Cut(rest, "/")
	return group, inner, true
}

// CheckSubscription checks s as a SUBSCRIBE on a connection speaking
// proto would carry it: the filter (CheckFilter), QoS and retain handling
// in range, MQTT 5 options only on MQTT 5, and no-local not on a shared
// subscription, which the broker must treat as a protocol error and so
// close the connection [MQTT-3.8.3-4].
func CheckSubscription(s Subscription, proto Protocol) error {
	if err := CheckFilter(s.Filter); err != nil {
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
	if _, _, shared := SharedFilter(s.Filter); shared && s.NoLocal {
		return fmt.Errorf("no-local cannot be set on a shared subscription ($share/…): the broker would close the connection [MQTT-3.8.3-4]; turn no-local off")
	}
	return nil
}
