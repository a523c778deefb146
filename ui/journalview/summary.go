package journalview

import (
	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/journal"
)

// summaryText is ev.Summary in the window's language: the same facts in
// the same order (journal.Event.SummaryIn), with the words translated. The
// engine's Summary stays English for the command line and the journal's
// files.
func summaryText(ev journal.Event) string {
	return ev.SummaryIn(journal.Words{
		CleanStart:    lang.X("journal.cleanstart", "clean start"),
		KeepAlive:     lang.X("journal.keepalive", "keepalive %ds"),
		SessionExpiry: lang.X("journal.sessionexpiry", "session expiry %ds"),
		Will:          lang.X("journal.will", "will %s"),
		Cert:          lang.X("journal.cert", "cert %s"),
		FilterRefused: lang.X("journal.filter.refused", "%s refused 0x%02X"),
		FilterGranted: lang.X("journal.filter.granted", "%s qos %d"),
		Cause:         causeWords,
		Action:        actionWord,
		State:         stateWord,
	})
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
