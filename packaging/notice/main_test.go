package main

import (
	"strings"
	"testing"
)

// The summary a reader (or a licence audit) scans names each module's
// licence; a text nobody recognised must say so rather than guess.
func TestClassifyNamesTheLicence(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Apache License\n Version 2.0, January 2004", "Apache-2.0"},
		{"Permission is hereby granted, free of charge, to any person", "MIT"},
		{"Redistribution and use in source and binary forms, with or without\nmodification... Neither the name of Google Inc.", "BSD-3-Clause"},
		{"Redistribution and use in source and binary forms, with or without\nmodification, are permitted", "BSD-2-Clause"},
		{"Permission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee", "ISC"},
		{"Eclipse Public License v2.0\nand Eclipse Distribution License v1.0", "EPL-2.0 OR BSD-3-Clause"},
		{"This software is provided 'as-is', without any express... Altered source versions must be plainly marked", "Zlib"},
		{"Mozilla Public License Version 2.0", "MPL-2.0"},
		{"All rights reserved. Ask us.", "see text"},
	} {
		if got := classify(tc.text); got != tc.want {
			t.Errorf("classify(%.40q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// lintian rejects a .deb whose copyright file repeats the Apache licence
// Debian already ships; NOTICE (for every other system) must keep it.
func TestDebianVariantRefersToCommonLicences(t *testing.T) {
	mods := []*module{{Path: "example.com/a", Version: "v1.0.0", Files: []licenceFile{
		{Name: "LICENSE", Text: "Apache License\nVersion 2.0\nTERMS AND CONDITIONS", Kind: "Apache-2.0"},
	}}}
	for _, tc := range []struct {
		debian   bool
		want     string
		wantFull bool
	}{{false, "TERMS AND CONDITIONS", true}, {true, "/usr/share/common-licenses/Apache-2.0", false}} {
		var b strings.Builder
		if err := writeNotice(&b, mods, tc.debian); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || strings.Contains(b.String(), "TERMS AND CONDITIONS") != tc.wantFull {
			t.Errorf("debian=%v: want %q, full text %v, got:\n%s", tc.debian, tc.want, tc.wantFull, b.String())
		}
	}
}
