// Package sparkplugb has one job: turn Sparkplug B MQTT messages into Go
// values and back. It reads and writes the protobuf payload that Eclipse
// Tahu's sparkplug_b.proto (org.eclipse.tahu.protobuf.Payload) describes,
// interprets metric values by their Sparkplug datatype (including the
// Sparkplug 3.0 array types packed into bytes_value), and parses
// spBv1.0/<group>/<type>/<edge node>[/<device>] topics.
//
// The wire format is read field by field with
// google.golang.org/protobuf/encoding/protowire, using the field numbers of
// sparkplug_b.proto, instead of code generated from that file: the .proto is
// EPL-2.0 and needs protoc to regenerate, while the field numbers are a
// fixed, public interface. The decoder is strict where a lenient one would
// hide a broken payload (a known field with the wrong wire type is an error)
// and lenient where the protobuf rules say so (unknown fields are skipped,
// repeated scalars may be packed or not, a repeated singular field's last
// value wins, singular messages seen twice are merged).
package sparkplugb
