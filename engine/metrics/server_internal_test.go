package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// Beyond loopback a scrape logs in as one of the broker's users (basic_auth
// in Prometheus's scrape config); on loopback it needs no login.
func TestExposedScrapesLogIn(t *testing.T) {
	users := &auth.Users{}
	if err := users.SetPassword("prometheus", []byte("scrape-secret")); err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry(Sources{})
	cases := []struct {
		name       string
		exposed    bool
		user, pass string // user "" sends no credentials
		want       int
	}{
		{"loopback, no login", false, "", "", http.StatusOK},
		{"exposed, no login", true, "", "", http.StatusUnauthorized},
		{"exposed, wrong password", true, "prometheus", "guess", http.StatusUnauthorized},
		{"exposed, unknown user", true, "nobody", "scrape-secret", http.StatusUnauthorized},
		{"exposed, a user's password", true, "prometheus", "scrape-secret", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(reg, users, tc.exposed, testkit.Logger())
			req := httptest.NewRequest(http.MethodGet, Path, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			switch {
			case tc.want == http.StatusOK && !strings.Contains(rec.Body.String(), "go_goroutines"):
				t.Fatalf("a granted scrape got no metrics: %.200s", rec.Body.String())
			case tc.want == http.StatusUnauthorized && (rec.Header().Get("WWW-Authenticate") == "" || strings.Contains(rec.Body.String(), "go_goroutines")):
				t.Fatalf("a refused scrape got %q with WWW-Authenticate %q", rec.Body.String(), rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}
