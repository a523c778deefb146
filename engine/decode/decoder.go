package decode

// A Decoder is one payload format. Each format is one file holding its
// Decoder, and one line in registry; Detect, Decode, Formats, ParseFormat,
// Label and the UI's format pickers all read the registry, so adding a
// format touches nothing else (but its fuzz seeds, which fuzz_test.go
// insists on).
type Decoder interface {
	// Format is the format's name in settings and on the command line
	// ("cbor").
	Format() Format
	// Label is its name in a picker ("CBOR").
	Label() string
	// Claims reports whether what comes with the payload (its topic, its
	// MQTT 5 content type as p.MediaType) says it is in this format, and
	// its bytes fit. Detect trusts a claim before the bytes' look.
	Claims(p Payload) bool
	// Looks reports whether the bytes, which nothing claims, look like this
	// format. Formats that are never guessed return false.
	Looks(p Payload) bool
	// Decode renders the payload, or says why it is not in this format.
	Decode(p Payload) (View, error)
}

// Payload is what a Decoder looks at.
type Payload struct {
	Topic string
	Bytes []byte
	// MediaType is the MQTT 5 content type without parameters, lower case;
	// "" when the message had none. Set for Claims only.
	MediaType string
	// Checked says Detect chose this format for these bytes, which it does
	// only when they fit, so Decode may skip a validating pass.
	Checked bool
}

// View is what a Decoder makes of a payload.
type View struct {
	// Text is the text view (Result.Text); unused when Hex is set.
	Text string
	// Tree builds the collapsible tree of a structured view on first use;
	// nil when the view has none.
	Tree func() *Node
	// Hex says the view is the hex dump of the bytes.
	Hex bool
	// Inner is set by a format that wraps another (Base64): the format the
	// unwrapped Bytes are shown in. The view is then of Bytes, not the
	// payload; empty Bytes show as an empty payload.
	Inner Format
	Bytes []byte
}
