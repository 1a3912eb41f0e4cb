package who

import (
	"net/http"
	"testing"
)

func TestDeleteHeaderFolded(t *testing.T) {
	h := http.Header{
		"Remote-User":  {"a"},
		"Remote_user":  {"b"},
		"REMOTE_USER":  {"c"},
		"Remote-Users": {"keep"},
		"X-Other":      {"keep"},
	}
	DeleteHeaderFolded(h, "remote-user")
	if len(h) != 2 || h.Get("Remote-Users") != "keep" || h.Get("X-Other") != "keep" {
		t.Fatalf("left %v", h)
	}
	if !HeaderNamesMatch("X_Remote_User", "x-remote-user") || HeaderNamesMatch("X-Remote-User", "X-Remote-Use") {
		t.Fatal("HeaderNamesMatch")
	}
}

func TestPreventSharedCaching(t *testing.T) {
	tests := []struct {
		name     string
		cc, vary []string
		wantCC   string
		wantVary []string
	}{
		{"none", nil, nil, "private", []string{"Cookie"}},
		{"public dropped", []string{"public, max-age=60"}, nil, "private, max-age=60", []string{"Cookie"}},
		{"no-store kept", []string{"no-store"}, []string{"Accept-Encoding"}, "no-store", []string{"Accept-Encoding", "Cookie"}},
		{"private kept", []string{"private, max-age=5"}, []string{"cookie"}, "private, max-age=5", []string{"cookie"}},
		{"vary star", []string{"max-age=1"}, []string{"*"}, "private, max-age=1", []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.cc {
				h.Add("Cache-Control", v)
			}
			for _, v := range tt.vary {
				h.Add("Vary", v)
			}
			PreventSharedCaching(h)
			if got := h.Get("Cache-Control"); got != tt.wantCC {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCC)
			}
			if got := h.Values("Vary"); len(got) != len(tt.wantVary) || got[len(got)-1] != tt.wantVary[len(tt.wantVary)-1] {
				t.Errorf("Vary = %q, want %q", got, tt.wantVary)
			}
		})
	}
}

// FuzzHeaderNamesMatch: the allocation-free comparison agrees with the
// rule as written (Unicode lower case, '_' as '-') on any pair of names a
// client can send.
func FuzzHeaderNamesMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"Remote-User", "remote_user"}, {"REMOTE_USER", "Remote-User"}, {"Remote-User", "Remote-Users"},
		{"X-K", "X-\u212a"}, {"ß", "SS"}, {"", ""}, {"_", "-"}, {"a\xff", "A\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want := foldHeaderName(a) == foldHeaderName(b)
		if got := HeaderNamesMatch(a, b); got != want {
			t.Fatalf("HeaderNamesMatch(%q, %q) = %v, want %v", a, b, got, want)
		}
		h := http.Header{a: {"v"}}
		DeleteHeaderFolded(h, b)
		if _, kept := h[a]; kept == want {
			t.Fatalf("DeleteHeaderFolded(%q) on %q: kept %v", b, a, kept)
		}
	})
}
