// Package decode has one job: turn an MQTT payload into something a person
// can read, in every format IoT Studio knows (UTF-8 text, JSON, hex dump,
// base64, CBOR, MessagePack, Sparkplug B), without ever leaving the
// inspector blank.
//
// Detect picks a format from the topic, the bytes and an MQTT 5 content
// type; Decode renders a payload in a chosen format (or Auto) and, when that
// format does not fit, says why in Result.Err and falls back to the hex
// dump. Output is built for paging: Result.Lines returns any window of the
// view's lines, HexLines renders only the rows asked for, and Result.Tree
// (a collapsible tree for structured formats) is built on first use and
// bounded by MaxTreeNodes, so a 10 MB payload costs one pass, not a frozen
// window.
//
// Each format is a Decoder (Format, Label, Claims, Looks, Decode) in a
// file of its own (text.go, jsonfmt.go, hex.go, base64.go, cbor.go,
// msgpack.go, sparkplug.go) and one line of registry (registry.go), which
// Detect, Decode, Formats, ParseFormat and the UI's pickers all read. A new
// format is a new file, that line, and its seeds in fuzz_test.go.
//
// NumericFields lists the numbers in a payload under stable paths
// ("battery.level", "values[0]", a Sparkplug metric's name) for charts, and
// Diff compares two payloads, structurally when both are JSON.
//
// CBOR decoding uses github.com/fxamacker/cbor/v2 and MessagePack scalars
// github.com/shamaton/msgpack/v3; MessagePack structure is walked here, with
// a nesting bound, because the library recurses without one and would
// overflow the stack on a hostile payload. Sparkplug B lives in the
// sparkplugb sub-package.
package decode
