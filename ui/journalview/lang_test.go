package journalview

import (
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// journalEvents has one event of each kind, with every field Summary says.
var journalEvents = []journal.Event{
	{Kind: journal.Connect, Protocol: 4, CleanStart: true, KeepAlive: 60, SessionExpiry: 300, WillTopic: "dev/1/status", CertSubject: "CN=dev1"},
	{Kind: journal.Connect, Protocol: 9, KeepAlive: 0},
	{Kind: journal.Refused, Code: 0x87, Reason: "Not authorized"},
	{Kind: journal.Disconnect, Cause: journal.CauseClient},
	{Kind: journal.Disconnect, Cause: journal.CauseKeepAlive},
	{Kind: journal.Disconnect, Cause: journal.CauseProtocol, Code: 0x82, Reason: "Protocol Error"},
	{Kind: journal.Subscribe, Filters: []journal.Filter{{Filter: "a/#", Granted: 1}, {Filter: "$SYS/#", Granted: -1, Code: 0x87}}},
	{Kind: journal.Unsubscribe, Filters: []journal.Filter{{Filter: "a/#"}}},
	{Kind: journal.Denied, Action: "publish", Topic: "secret/x"},
	{Kind: journal.Remote, State: "reconnecting", URL: "mqtt://h:1883", Reason: "connection refused"},
}

// In English the panel's summary is word for word the engine's, which the
// command line prints; in Russian the words are Russian and the MQTT
// reasons, topics and codes stay as they are.
func TestSummaryInEachLanguage(t *testing.T) {
	for _, ev := range journalEvents {
		ev.Time = time.Now()
		if got, want := summaryText(ev), ev.Summary(); got != want {
			t.Errorf("%s in English: %q, the engine says %q", ev.Kind, got, want)
		}
	}
	uitest.InLanguage(t, translations.Russian)
	for i, want := range map[int]string{
		0: "v3.1.1, чистый старт, keep-alive 60 с, срок сессии 300 с, завещание dev/1/status, сертификат CN=dev1",
		2: "0x87 Not authorized",
		3: "клиент отключился, 0x00",
		6: "a/# QoS 1, $SYS/# отклонена 0x87",
		8: "публикация secret/x",
		9: "переподключение, mqtt://h:1883, connection refused",
	} {
		if got := summaryText(journalEvents[i]); got != want {
			t.Errorf("%s in Russian: %q, want %q", journalEvents[i].Kind, got, want)
		}
	}
}

// In Russian a Local broker connection's state is listed under the
// connection's Russian name, and typing that name in the filter finds it;
// it was listed as "Local broker".
func TestLocalBrokerConnectionInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	now := time.Now()
	s := openJournal(t, append(sessions(now),
		journal.Event{Time: now, Kind: journal.Remote, Client: localname.Profile, State: "connected", URL: "mqtt://127.0.0.1:1883"})...)
	h := newHarness(t, s)
	h.until(t, "the five events", func(r []string) bool { return len(r) == 5 })
	if got := clientText(h.panel.events[0]); got != "Локальный брокер" {
		t.Errorf("the connection's state is listed under %q", got)
	}
	if got := clientText(h.panel.events[1]); got != "intruder" {
		t.Errorf("a client ID reads %q", got)
	}
	h.panel.client.SetText("Локальный брокер")
	h.until(t, "the connection's event only", func(r []string) bool {
		return len(r) == 1 && strings.HasPrefix(r[0], "remote-state Local broker")
	})
	if got := h.panel.status.Text; !strings.Contains(got, "Локальный брокер") {
		t.Errorf("status %q does not name the connection in Russian", got)
	}
}
