package decode

import "slices"

// sniff places a format in Detect's order: the ones whose claim or look is
// least likely by chance first.
type sniff int

const (
	sniffTopic  sniff = iota // the topic says it (Sparkplug B)
	sniffShape               // a shape text rarely has by chance (a JSON object or array)
	sniffText                // readable text, before binary: "ab" is also the CBOR string "b"
	sniffBinary              // a binary document that parses to its last byte
	sniffNever               // never guessed (Hex is the fallback; too many words are base64)
)

// registry is every format, in the order a picker lists them after Auto.
// A new format is one file with its Decoder and one line here.
var registry = []struct {
	Decoder
	sniff sniff
}{
	{textFormat{}, sniffText},
	{jsonFormat{}, sniffShape},
	{hexFormat{}, sniffNever},
	{base64Format{}, sniffNever},
	{cborFormat{}, sniffBinary},
	{msgpackFormat{}, sniffBinary},
	{sparkplugFormat{}, sniffTopic},
}

// detectOrder is registry sorted by sniff, registry order among equals
// (CBOR before MessagePack, as a payload valid as both is more likely
// CBOR's array or map).
var detectOrder = func() []Decoder {
	rs := slices.Clone(registry)
	slices.SortStableFunc(rs, func(a, b struct {
		Decoder
		sniff sniff
	}) int {
		return int(a.sniff) - int(b.sniff)
	})
	out := make([]Decoder, len(rs))
	for i, r := range rs {
		out[i] = r.Decoder
	}
	return out
}()

// decoderFor returns the Decoder of f, or nil (Auto and unknown formats).
func decoderFor(f Format) Decoder {
	for _, r := range registry {
		if r.Format() == f {
			return r.Decoder
		}
	}
	return nil
}
