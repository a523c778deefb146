// Package app is IoT Studio's command line and process life: it parses
// the command line, picks the subcommand (gui, serve, users, ca, capture,
// connect, connections, saved, version), sets up logging and signals,
// opens the engine (engine/studio, which owns the start and shutdown
// order) from flags or saved settings, and for gui the window (ui/window).
// The window's heap policy (memory.go) stays here: it tunes the whole
// process's Go runtime, not the engine, and serve does not use it.
package app
