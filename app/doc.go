// Package app wires IoT Studio together: it parses the command line, picks
// the subcommand (gui, serve, users, ca, version), builds the engine from
// flags or saved settings, sets up logging, and owns the shutdown order.
package app
