package bytesize

import "testing"

func TestText(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{-1, "0 B"},
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1280, "1.3 KiB"}, // halves round up, as in every panel
		{1536, "1.5 KiB"},
		{10 << 10, "10 KiB"},
		{(10 << 10) - 40, "10 KiB"}, // 9.96 KiB rounds to 10, shown without a decimal
		{3 << 20, "3.0 MiB"},
		{50 << 30, "50 GiB"},
		{1 << 62, "4.0 EiB"},
	} {
		if got := Text(c.n); got != c.want {
			t.Errorf("Text(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
