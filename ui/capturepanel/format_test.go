package capturepanel

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "", want: time.Time{}},
		{in: "  ", want: time.Time{}},
		{in: "now", want: now},
		{in: "-30s", want: now.Add(-30 * time.Second)},
		{in: "-10m", want: now.Add(-10 * time.Minute)},
		{in: "-2h", want: now.Add(-2 * time.Hour)},
		{in: "-7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "-1w", want: now.Add(-7 * 24 * time.Hour)},
		{in: "-10 мин", want: now.Add(-10 * time.Minute)}, // the window's units, in any of its languages
		{in: "-2ч", want: now.Add(-2 * time.Hour)},
		{in: "-7 дн", want: now.Add(-7 * 24 * time.Hour)},
		{in: "-7天", want: now.Add(-7 * 24 * time.Hour)},
		{in: "-30 秒", want: now.Add(-30 * time.Second)},
		{in: "-1 H", want: now.Add(-time.Hour)},
		{in: " -0m ", want: now},
		{in: "2026-03-01T10:00:00Z", want: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{in: "2026-03-01T10:00:00.5+02:00", want: time.Date(2026, 3, 1, 8, 0, 0, 500e6, time.UTC)},
		{in: "-10", wantErr: true},
		{in: "-m", wantErr: true},
		{in: "-1.5h", wantErr: true},
		{in: "--5m", wantErr: true},
		{in: "-5y", wantErr: true},
		{in: "-5 лет", wantErr: true},
		{in: "-1,5 ч", wantErr: true},
		{in: "10m", wantErr: true},
		{in: "-99999999999d", wantErr: true},
		{in: "-4000000000w", wantErr: true},
		{in: "2026-03-01", wantErr: true},
		{in: "yesterday", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseTime(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestPreview(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct{ in, want string }{
		{"", "(empty)"},
		{"21.5", "21.5"},
		{"a\nb\r\nc", "a⏎b⏎c"},
		{long, strings.Repeat("x", previewRunes) + "… (4.9 KiB)"},
		{"\x00\x01\xff", "0x0001ff"},
		{strings.Repeat("\x00", 100), "0x" + strings.Repeat("00", previewBytes) + "… (100 B, binary)"},
	}
	for _, tt := range tests {
		if got := preview([]byte(tt.in)); got != tt.want {
			t.Errorf("preview(%.20q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPayloadViewCutsHugePayloads(t *testing.T) {
	small := []byte{0, 1, 2}
	if got := rawView(small); got != payloadText(small) {
		t.Errorf("small payload view %q", got)
	}
	huge := []byte(strings.Repeat("é", maxDetailBytes)) // 2 bytes a rune
	got := rawView(huge)
	if len(got) > maxDetailBytes+200 || !strings.Contains(got, "Copy payload copies all of it") {
		t.Errorf("huge payload view is %d bytes, ends %q", len(got), got[len(got)-80:])
	}
	if !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
		t.Error("the cut text payload is not valid text")
	}
}
