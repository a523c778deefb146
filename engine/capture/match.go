package capture

import "github.com/iotstudio/iotstudio/engine/message"

// MatchTopic is message.MatchTopic, kept only while engine/topics still
// calls it here.
//
// Deprecated: use message.MatchTopic; this goes once engine/topics imports
// engine/message.
func MatchTopic(filter string, topic []byte) bool { return message.MatchTopic(filter, topic) }

// ValidateFilter is message.ValidateFilter, kept only while engine/topics
// still calls it here.
//
// Deprecated: use message.ValidateFilter; this goes once engine/topics
// imports engine/message.
func ValidateFilter(f string) error { return message.ValidateFilter(f) }
