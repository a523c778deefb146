package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// Exit codes: 2 means the user asked for something we cannot do as asked
// (bad flags, busy port), 1 means something failed while running, 3 that
// a command wrote what it could but its results are incomplete (capture
// query or export over damaged records).
const (
	exitOK         = 0
	exitFail       = 1
	exitUsage      = 2
	exitIncomplete = 3
)

// incompleteError marks errors that exit with status 3.
type incompleteError struct{ err error }

func (e incompleteError) Error() string { return e.err.Error() }
func (e incompleteError) Unwrap() error { return e.err }

// env is what a subcommand reads and writes; tests swap it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

const usage = `usage: iotstudio [command] [flags]

With no command, IoT Studio opens its window with the embedded broker running.

commands:
  serve        run the broker without a window
  users        add, remove or list broker users (users add NAME reads the password from stdin)
  ca export    write the development CA certificate for devices to trust
  capture      stats, query, export, import, replay and clear of the captured traffic
  connect      connect to any MQTT broker: subscribe, publish, print or capture what arrives
  connections  list, add, remove, export and import the saved connection profiles
  saved        list the Publish panel's saved messages, or publish one to any broker
  simulate     run, check, preview and infer fleets of virtual devices (YAML scenario files)
  version      print the version (also --version)
  journal      query the broker's session journal (who connected, from where, why they left), or its stats
  help         this text; "iotstudio help COMMAND" or "iotstudio COMMAND --help" shows a command's flags
`

// Main runs the command line and returns the process exit status.
func Main(args []string) int {
	return run(args, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
}

func run(args []string, e env) int {
	cmd, rest := "gui", args
	switch {
	case len(args) == 0:
	case isHelpArg(args[0]) && len(args) > 1 && !isHelpArg(args[1]):
		// help COMMAND [VERB] is COMMAND [VERB] --help.
		return run(append(args[1:len(args):len(args)], "--help"), e)
	case isHelpArg(args[0]):
		writeMainHelp(e.stdout, e)
		return exitOK
	case args[0] == "--version" || args[0] == "-version":
		cmd = "version"
	case !strings.HasPrefix(args[0], "-"):
		cmd, rest = args[0], args[1:]
	}
	if isGroup(cmd) && len(rest) > 0 && isHelpArg(rest[0]) {
		fmt.Fprintln(e.stdout, commandUsage(cmd))
		return exitOK
	}
	var err error
	switch cmd {
	case "gui":
		err = runGUI(rest, e)
	case "serve":
		err = runServe(rest, e)
	case "users":
		err = runUsers(rest, e)
	case "ca":
		err = runCA(rest, e)
	case "capture":
		err = runCapture(rest, e)
	case "connect":
		err = runConnect(rest, e)
	case "connections":
		err = runConnections(rest, e)
	case "saved":
		err = runSaved(rest, e)
	case "simulate":
		err = runSimulate(rest, e)
	case "version":
		fmt.Fprintln(e.stdout, "iotstudio", Version())
	case "journal":
		err = runJournal(rest, e)
	default:
		err = usagef("unknown command %q\n%s", cmd, usage)
	}
	return exitStatus(err, e.stderr)
}

func exitStatus(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "iotstudio:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ie incompleteError
	if errors.As(err, &ie) {
		return exitIncomplete
	}
	return exitFail
}

// version is set by release builds: -ldflags "-X github.com/iotstudio/iotstudio/app.version=0.2.0".
var version string

// Version is the program's version and, when Go stamped the build from a
// git checkout (go build does), the commit and its time: "0.2.0 (commit
// 1a2b3c4d5e6f, 2026-12-06 19:47 UTC)", with "modified" when the
// checkout had uncommitted changes. `iotstudio version` and About show it.
func Version() string {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(version, info)
}

func describeBuild(release string, info *debug.BuildInfo) string {
	v := release
	if v == "" && info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	if info == nil {
		return v
	}
	var commit, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value[:min(12, len(s.Value))]
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				at = t.UTC().Format("2006-01-02 15:04 UTC")
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if commit == "" {
		return v
	}
	if release == "" && strings.Contains(v, commit) {
		v = "devel" // Go's pseudo-version of an untagged commit says it again
	}
	details := "commit " + commit
	if at != "" {
		details += ", " + at
	}
	if modified {
		details += ", modified"
	}
	return v + " (" + details + ")"
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
