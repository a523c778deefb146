package journalview

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/journal"
)

// summaryText is ev.Summary in the window's language: the same facts in
// the same order, with the words translated. The engine's Summary stays
// English for the command line and the journal's files; MQTT reason
// strings, protocol versions, topics and URLs are kept as they are.
func summaryText(ev journal.Event) string {
	var parts []string
	add := func(format string, v ...any) { parts = append(parts, fmt.Sprintf(format, v...)) }
	switch ev.Kind {
	case journal.Connect:
		add("v%s", journal.ProtocolVersion(ev.Protocol))
		if ev.CleanStart {
			add("%s", lang.X("journal.cleanstart", "clean start"))
		}
		add(lang.X("journal.keepalive", "keepalive %ds"), ev.KeepAlive)
		if ev.SessionExpiry > 0 {
			add(lang.X("journal.sessionexpiry", "session expiry %ds"), ev.SessionExpiry)
		}
		if ev.WillTopic != "" {
			add(lang.X("journal.will", "will %s"), ev.WillTopic)
		}
		if ev.CertSubject != "" {
			add(lang.X("journal.cert", "cert %s"), ev.CertSubject)
		}
	case journal.Refused:
		add("0x%02X %s", ev.Code, ev.Reason)
	case journal.Disconnect:
		add("%s", causeWords(ev.Cause))
		if ev.Code != 0 || ev.Cause == journal.CauseClient {
			add("0x%02X", ev.Code)
		}
		if ev.Reason != "" {
			add("%s", ev.Reason)
		}
	case journal.Subscribe, journal.Unsubscribe:
		for _, f := range ev.Filters {
			switch {
			case ev.Kind == journal.Unsubscribe:
				add("%s", f.Filter)
			case f.Granted < 0:
				add(lang.X("journal.filter.refused", "%s refused 0x%02X"), f.Filter, f.Code)
			default:
				add(lang.X("journal.filter.granted", "%s qos %d"), f.Filter, f.Granted)
			}
		}
	case journal.Denied:
		add("%s %s", actionWord(ev.Action), ev.Topic)
	case journal.Remote:
		add("%s", stateWord(ev.State))
		if ev.URL != "" {
			add("%s", ev.URL)
		}
		if ev.Reason != "" {
			add("%s", ev.Reason)
		}
	default:
		return ev.Summary()
	}
	return strings.Join(parts, ", ")
}

// causeWords says why a client went away.
func causeWords(c journal.Cause) string {
	switch c {
	case journal.CauseClient:
		return lang.X("journal.cause.client", "client-disconnect")
	case journal.CauseKeepAlive:
		return lang.X("journal.cause.keepalive", "keepalive-timeout")
	case journal.CauseNetwork:
		return lang.X("journal.cause.network", "network-error")
	case journal.CauseTakenOver:
		return lang.X("journal.cause.takenover", "session-taken-over")
	case journal.CauseKicked:
		return lang.X("journal.cause.kicked", "kicked")
	case journal.CauseShutdown:
		return lang.X("journal.cause.shutdown", "server-shutdown")
	case journal.CauseMalformed:
		return lang.X("journal.cause.malformed", "malformed-packet")
	case journal.CauseProtocol:
		return lang.X("journal.cause.protocol", "protocol-error")
	}
	return string(c)
}

// actionWord is what an ACL denied: publish or subscribe.
func actionWord(a string) string {
	switch a {
	case "publish":
		return lang.X("journal.action.publish", "publish")
	case "subscribe":
		return lang.X("journal.action.subscribe", "subscribe")
	}
	return a
}

// stateWord is a connection's state as the engine's client names it.
func stateWord(s string) string {
	switch s {
	case "connecting":
		return lang.X("journal.state.connecting", "connecting")
	case "connected":
		return lang.X("journal.state.connected", "connected")
	case "reconnecting":
		return lang.X("journal.state.reconnecting", "reconnecting")
	case "disconnected":
		return lang.X("journal.state.disconnected", "disconnected")
	}
	return s
}
