package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
)

// The standard flag package is kept (rather than a library such as pflag)
// because it accepts both -flag and --flag, which scripts written against
// earlier versions rely on; what it lacks, help that shows --flag and
// flags after positional arguments, is added here for every subcommand.

// isHelpArg reports whether arg asks for help the ways users try it.
func isHelpArg(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// commandUsage is each command's own usage text, shown above its flags by
// `iotstudio COMMAND --help`, and by `iotstudio GROUP --help` for groups.
func commandUsage(cmd string) string {
	switch cmd {
	case "users":
		return usersUsage
	case "ca":
		return caUsage
	case "capture":
		return captureUsage
	case "connect":
		return connectUsage
	case "connections":
		return connectionsUsage
	case "saved":
		return savedUsage
	case "simulate":
		return simulateUsage
	case "journal":
		return journalUsage
	}
	return ""
}

// isGroup reports whether cmd is followed by a verb (capture query, users add).
func isGroup(cmd string) bool {
	switch cmd {
	case "users", "ca", "capture", "connections", "saved", "simulate", "journal":
		return true
	}
	return false
}

func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("iotstudio "+name, flag.ContinueOnError)
	// The flag package prints a parse error and then calls Usage; it calls
	// Usage alone for -h. The error is returned and printed once by
	// exitStatus, so what the package writes is only used to tell the two
	// apart: help goes to stdout (exit 0), an error gets no page of flags.
	var failed bytes.Buffer
	fs.SetOutput(&failed)
	fs.Usage = func() {
		if failed.Len() == 0 {
			writeHelp(e.stdout, name, fs)
		}
		failed.Reset()
	}
	return fs
}

// writeHelp prints the usage lines of the command name ("capture query")
// and its flags, spelled --flag as the README spells them.
func writeHelp(w io.Writer, name string, fs *flag.FlagSet) {
	fmt.Fprintln(w, synopsis(name))
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	writeFlags(w, fs)
}

// synopsis is the usage lines for name, taken from its command's usage
// text so that they are written once: all of it for a command without
// verbs, the lines of the one verb for a group.
func synopsis(name string) string {
	cmd, verb, _ := strings.Cut(name, " ")
	text := commandUsage(cmd)
	if text == "" || cmd == "gui" {
		return "usage: iotstudio " + name + " [flags]"
	}
	if !isGroup(cmd) {
		return text
	}
	var out []string
	in := false
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\n")
		trimmed := strings.TrimSpace(strings.TrimPrefix(line, "usage:"))
		switch {
		case strings.HasPrefix(trimmed, "iotstudio "+cmd+" "+verb+" ") || trimmed == "iotstudio "+cmd+" "+verb:
			in = true
			out = append(out, "usage: "+trimmed)
		case in && strings.HasPrefix(line, "  ") && !strings.HasPrefix(trimmed, "iotstudio "):
			out = append(out, line) // the synopsis continues on the next line
		default:
			in = false
		}
	}
	if len(out) == 0 {
		return "usage: iotstudio " + name + " [flags]"
	}
	return strings.Join(out, "\n")
}

// writeFlags lists fs's flags as "--name VALUE  usage (default x)".
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		value, usage := flag.UnquoteUsage(f)
		spec := dashes + f.Name
		if value != "" {
			spec += " " + value
		}
		if shownDefault(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", spec, usage)
	})
	tw.Flush()
}

func shownDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return false
	}
	return !strings.Contains(f.Usage, "default")
}

// parseArgs parses fs from args with flags allowed before, between and
// after the positional arguments, which it returns; everything after "--"
// is positional. Errors exit with status 2, -h/--help with 0.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{fmt.Errorf("%s (see %s --help)", doubleDash(err.Error()), fs.Name())}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" && !isFlagValue(fs, args[:consumed]) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// isFlagValue reports whether the last of args is the value of the flag
// before it (--topic --) rather than the end of the flags.
func isFlagValue(fs *flag.FlagSet, args []string) bool {
	if len(args) < 2 {
		return false
	}
	prev := strings.TrimLeft(args[len(args)-2], "-")
	if !strings.HasPrefix(args[len(args)-2], "-") || strings.Contains(prev, "=") {
		return false
	}
	f := fs.Lookup(prev)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// flagInError is how the flag package names a flag in its errors (-name).
var flagInError = regexp.MustCompile(`(defined: |for flag |value "[^"]*" for |argument: )-([A-Za-z0-9][-A-Za-z0-9_]+)`)

// doubleDash spells the flags in a flag-package error as the help does.
func doubleDash(msg string) string { return flagInError.ReplaceAllString(msg, "${1}--${2}") }

// parseFlags parses a command that takes no positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	return nil
}

// writeMainHelp is `iotstudio --help`: the commands, then the window's
// flags (the command with no name).
func writeMainHelp(w io.Writer, e env) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nflags of the window (iotstudio [flags]):")
	fs := newFlagSet("gui", e)
	guiFlags(fs)
	writeFlags(w, fs)
}
