// Command notice writes assets/NOTICE: the licence of every third-party Go
// module linked into IoT Studio, with the licence texts, as their terms ask
// a binary distribution to carry. Run from the repository root after a
// dependency changes:
//
//	go run ./packaging/notice            # rewrite assets/NOTICE
//	go run ./packaging/notice -check     # exit 1 if assets/NOTICE is stale
//	go run ./packaging/notice -debian    # the .deb's copyright file, on stdout
//
// It asks `go list -deps` which packages the program links for Linux,
// Windows and macOS (the union: a keyring or D-Bus module is linked on one
// system only), and takes the licence files of each package's directory,
// of its parents up to the module root, and of subdirectories holding no Go
// code (the C sources and fonts that cgo and go:embed pull in).
// Everything comes from the module cache: it works offline once
// `go mod download` has run.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
)

const (
	mainModule = "github.com/iotstudio/iotstudio"
	out        = "assets/NOTICE"
)

// targets are the systems IoT Studio ships for.
var targets = []string{"linux", "windows", "darwin"}

func main() {
	check := flag.Bool("check", false, "only compare with "+out+"; exit 1 if it differs")
	debian := flag.Bool("debian", false, "write Debian's copyright file to stdout: licences Debian ships in /usr/share/common-licenses are referred to, not repeated")
	flag.Parse()
	var err error
	if *debian {
		err = writeDebian(os.Stdout)
	} else {
		err = run(*check)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "notice:", err)
		os.Exit(1)
	}
}

func run(check bool) error {
	mods, err := linkedModules()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeNotice(&buf, mods, false); err != nil {
		return err
	}
	if check {
		old, err := os.ReadFile(out)
		if err != nil {
			return fmt.Errorf("read %s: %w (run `go run ./packaging/notice` to create it)", out, err)
		}
		if !bytes.Equal(old, buf.Bytes()) {
			return fmt.Errorf("%s is out of date with go.mod: run `go run ./packaging/notice` and commit it", out)
		}
		return nil
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// module is one third-party module and the licence files that apply to the
// code of it the program links.
type module struct {
	Path, Version string
	Files         []licenceFile
}

type licenceFile struct {
	Name string // relative to the module root, slash-separated
	Text string
	Kind string // SPDX identifier, from the text
}

type listedPackage struct {
	Dir      string
	Standard bool
	Module   *struct {
		Path, Version, Dir string
		Replace            *struct{ Path, Version, Dir string }
	}
}

func linkedModules() ([]*module, error) {
	byPath := map[string]*module{}
	seenDir := map[string]bool{}
	for _, goos := range targets {
		pkgs, err := listDeps(goos)
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			if p.Standard || p.Module == nil || p.Module.Path == mainModule || seenDir[p.Dir] {
				continue
			}
			seenDir[p.Dir] = true
			path, version, root := p.Module.Path, p.Module.Version, p.Module.Dir
			if r := p.Module.Replace; r != nil {
				version, root = r.Version, r.Dir
			}
			if root == "" {
				return nil, fmt.Errorf("module %s is not in the module cache: run `go mod download`", path)
			}
			m := byPath[path]
			if m == nil {
				m = &module{Path: path, Version: version}
				byPath[path] = m
			}
			if err := m.addLicences(root, p.Dir); err != nil {
				return nil, err
			}
		}
	}
	mods := make([]*module, 0, len(byPath))
	for _, m := range byPath {
		if len(m.Files) == 0 {
			return nil, fmt.Errorf("module %s %s has no licence file: check its terms by hand before shipping it", m.Path, m.Version)
		}
		sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	return mods, nil
}

func listDeps(goos string) ([]listedPackage, error) {
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,Standard,Module", ".")
	// cgo on: the GUI's GL and GLFW packages exist only with it, and a
	// cross-GOOS go list turns it off by default.
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outp, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list for %s: %w: %s", goos, err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(outp))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list for %s: %w", goos, err)
		}
		pkgs = append(pkgs, p)
	}
}

var licenceName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|unlicense)([._-].*)?$`)

// addLicences adds the licence files of pkgDir, of its parents up to root,
// and of its subdirectories without Go code.
func (m *module) addLicences(root, pkgDir string) error {
	dirs := []string{}
	for d := pkgDir; ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == root || len(d) <= len(root) {
			break
		}
	}
	sub, err := nonGoSubdirs(pkgDir)
	if err != nil {
		return err
	}
	for _, d := range append(dirs, sub...) {
		entries, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("module %s: %w", m.Path, err)
		}
		for _, e := range entries {
			if e.IsDir() || !licenceName.MatchString(e.Name()) {
				continue
			}
			rel, err := filepath.Rel(root, filepath.Join(d, e.Name()))
			if err != nil {
				return err
			}
			if err := m.addFile(filepath.ToSlash(rel), filepath.Join(d, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *module) addFile(name, file string) error {
	for _, f := range m.Files {
		if f.Name == name {
			return nil
		}
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("module %s: %w", m.Path, err)
	}
	t := strings.TrimSpace(strings.ReplaceAll(string(text), "\r\n", "\n"))
	m.Files = append(m.Files, licenceFile{Name: name, Text: t, Kind: classify(t)})
	return nil
}

// nonGoSubdirs lists the directories under dir (at any depth) that hold no
// .go file and sit under no directory that does: data and C sources that
// belong to dir's package rather than to another package.
func nonGoSubdirs(dir string) ([]string, error) {
	var found []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		d := filepath.Join(dir, e.Name())
		hasGo, err := holdsGo(d)
		if err != nil {
			return nil, err
		}
		if hasGo {
			continue
		}
		found = append(found, d)
		deeper, err := nonGoSubdirs(d)
		if err != nil {
			return nil, err
		}
		found = append(found, deeper...)
	}
	return found, nil
}

func holdsGo(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
			return true, nil
		}
	}
	return false, nil
}

// classify names a licence text by the phrases that set the common
// licences apart; "see text" leaves the reading to a person.
func classify(text string) string {
	t := strings.Join(strings.Fields(strings.ToLower(text)), " ")
	has := func(s string) bool { return strings.Contains(t, s) }
	switch {
	case has("eclipse public license") && has("eclipse distribution license"):
		return "EPL-2.0 OR BSD-3-Clause"
	case has("apache license") && has("version 2.0"):
		return "Apache-2.0"
	case has("mozilla public license") && has("2.0"):
		return "MPL-2.0"
	case has("sil open font license"):
		return "OFL-1.1"
	case has("bitstream vera") || has("dejavu"):
		return "Bitstream-Vera"
	case has("permission is hereby granted, free of charge"):
		return "MIT"
	case has("redistribution and use in source and binary forms") && (has("neither the name") || has("the names of its contributors") || has("may not be used to endorse")):
		return "BSD-3-Clause"
	case has("redistribution and use in source and binary forms"):
		return "BSD-2-Clause"
	case has("permission to use, copy, modify, and/or distribute this software for any purpose") || has("permission to use, copy, modify, and distribute this software for any purpose"):
		return "ISC"
	case has("this software is provided 'as-is'") && has("altered source versions must be plainly marked"):
		return "Zlib"
	case has("this is free and unencumbered software"):
		return "Unlicense"
	}
	return "see text"
}

// writeDebian writes the copyright file of the .deb. Debian policy wants
// the licences every system has in /usr/share/common-licenses named there
// rather than copied (lintian: copyright-file-contains-full-apache-2-license).
func writeDebian(w io.Writer) error {
	mods, err := linkedModules()
	if err != nil {
		return err
	}
	return writeNotice(w, mods, true)
}

// commonLicences are the licences of /usr/share/common-licenses on Debian.
var commonLicences = map[string]string{
	"Apache-2.0": "/usr/share/common-licenses/Apache-2.0",
	"MPL-2.0":    "/usr/share/common-licenses/MPL-2.0",
}

func writeNotice(w io.Writer, mods []*module, debian bool) error {
	var b strings.Builder
	b.WriteString(`IoT Studio: third-party notices
================================

IoT Studio's own licence is not chosen yet: the source has no LICENSE file.
This file lists the licences of the third-party code built into the
program: the Go standard library and the Go modules below, each under its
own licence, reproduced in full after the summary. Generated by
` + "`go run ./packaging/notice`" + ` from go.mod and the module cache; do not edit.

Summary
-------
`)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\n", "Go standard library", "(the Go release it was built with)", "BSD-3-Clause")
	for _, m := range mods {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Path, m.Version, strings.Join(kinds(m), ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	goLicence, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "LICENSE"))
	if err != nil {
		return fmt.Errorf("read the Go licence: %w", err)
	}
	section(&b, "Go standard library", "LICENSE", strings.TrimSpace(string(goLicence)))
	for _, m := range mods {
		for _, f := range m.Files {
			text := f.Text
			if path, ok := commonLicences[f.Kind]; ok && debian {
				text = "The " + f.Kind + " licence, in " + path + " on Debian systems."
			}
			section(&b, m.Path+" "+m.Version, f.Name, text)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func kinds(m *module) []string {
	var ks []string
	seen := map[string]bool{}
	for _, f := range m.Files {
		if strings.HasPrefix(strings.ToLower(filepath.Base(f.Name)), "notice") || seen[f.Kind] {
			continue
		}
		seen[f.Kind] = true
		ks = append(ks, f.Kind)
	}
	return ks
}

func section(b *strings.Builder, title, file, text string) {
	head := title + ": " + file
	fmt.Fprintf(b, "\n\n%s\n%s\n\n%s\n", head, strings.Repeat("-", len(head)), text)
}
