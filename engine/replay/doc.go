// Package replay re-publishes captured MQTT traffic: it reads the records a
// capture.Query selects, oldest first and page by page, and hands each to
// a Publisher at its original offset from the first record divided by a
// speed factor, with optional topic prefix remapping, QoS override and
// retain clearing. Client is the Publisher that sends them to a broker
// (mqtt://, mqtts://, ws://, wss://) over MQTT 5, so message properties
// survive, through engine/client's Sender. It never imports Fyne.
package replay
