package capture

// MatchTopic reports whether topic matches the MQTT topic filter, following
// MQTT 3.1.1/5 section 4.7 ('+' one level, '#' the parent level and all
// below, wildcards first do not match '$' topics). The filter must be valid
// (see ValidateFilter) and non-empty. Exported so that other views of
// traffic (the live topic tree) filter exactly as capture queries do.
func MatchTopic(filter string, topic []byte) bool { return matchTopic(filter, topic) }
