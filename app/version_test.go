package app

import (
	"runtime/debug"
	"testing"
)

// The version says which commit a build came from and when, so a bug
// report names the code it is about.
func TestVersionNamesTheCommit(t *testing.T) {
	stamp := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	rev := "ae5369d1b2c3d4e5f60718293a4b5c6d7e8f9012"
	for _, tc := range []struct {
		name, release string
		info          *debug.BuildInfo
		want          string
	}{
		{"checkout", "", stamp("vcs.revision", rev, "vcs.time", "2026-12-06T19:47:30Z", "vcs.modified", "false"), "devel (commit ae5369d1b2c3, 2026-12-06 19:47 UTC)"},
		{"modified checkout", "", stamp("vcs.revision", rev, "vcs.time", "2026-12-06T19:47:30Z", "vcs.modified", "true"), "devel (commit ae5369d1b2c3, 2026-12-06 19:47 UTC, modified)"},
		{"release", "0.2.0", stamp("vcs.revision", rev, "vcs.time", "2026-12-06T19:47:30Z"), "0.2.0 (commit ae5369d1b2c3, 2026-12-06 19:47 UTC)"},
		{"no stamp", "", stamp(), "devel"},
		{"pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206194622-ae5369d1b2c3+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}, "devel (commit ae5369d1b2c3, modified)"},
		{"tagged", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}}}, "v0.2.0 (commit ae5369d1b2c3)"},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "v0.1.0"},
		{"no build info", "0.2.0", nil, "0.2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeBuild(tc.release, tc.info); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}
