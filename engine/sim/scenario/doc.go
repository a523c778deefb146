// Package scenario reads and writes scenario files: the YAML format in
// which people describe simulated devices (profiles) and how many of them
// to run (fleets).
//
// Parse walks yaml.Node trees itself instead of decoding into the structs,
// because a person editing a file needs every mistake at once, each with
// its file:line:col and a hint (did-you-mean for typos, an example for a
// wrong type), and yaml's own decoder stops at the first and knows neither
// our shorthands nor our rules. Parse checks everything that needs no
// compilation (ranges, required keys, references inside one file, template
// syntax); engine/sim/device compiles generators and expressions and
// resolves built-in profiles, so unknown profile names are not errors here.
//
// Parse does not fill in defaults (consumers do), except the At positions.
// Marshal writes a File back as YAML that Parse reads to the same File, and
// Schema returns the JSON Schema generated from these types for editors.
package scenario
