// Package saved keeps the messages a person wants to send again: named
// collections of saved messages (SavedFile in the data dir) and a capped
// history of recent publishes (HistoryFile). Both are JSON, replaced
// atomically on every change, so a crash leaves the old file or the new one.
// A file that cannot be read is reported with its path and is never
// overwritten: the Store or History refuses to open, and the person decides
// (fix it, or move it aside and start empty).
//
// A Message is everything a publish needs except the connection; it turns
// into a client.Message with ClientMessage.
package saved
