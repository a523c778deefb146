// Package device has one job: turn a scenario file into fleets of simulated
// devices, each a sim.Behaviour that says what it publishes and how it
// answers commands, without doing any I/O itself (engine/sim/fleet
// connects them).
//
// Compile checks the whole file first: every profile is resolved (the
// file's own, then the built-in ones), every text/template, expression and
// generator is compiled once, and every problem is reported together as
// scenario.Errors with the file, line and column it came from. A file with
// any error yields no fleet, so nothing half-starts.
//
// Fleet.Device(i) then makes device i. Everything random in it is seeded
// from (the fleet's seed, i, the field's path in the profile) through a
// stable hash, so the same file and seed give every device the same values
// on every run and machine, and adding a field does not change the others.
// A device's state is guarded by its own mutex because the runtime calls
// it from its scheduler and from the connection that receives commands.
//
// A profile with a Sparkplug section is a Sparkplug B edge node: NBIRTH and
// DBIRTHs after each connect, NDATA/DDATA on its streams, one seq counter
// (0..255) over all of them, NDEATH with the connection's bdSeq as its will,
// and the Node Control/Rebirth command answered with new births.
package device
