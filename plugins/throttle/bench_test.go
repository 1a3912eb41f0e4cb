package throttle

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowho/gowho/who"
)

// BenchmarkOverhead: a successful login through the throttle in memory
// (mode both) against the bare authenticator; compare with benchstat:
//
//	go test -run '^$' -bench Overhead -count 10 ./plugins/throttle/ | tee /tmp/t.txt
func BenchmarkOverhead(b *testing.B) {
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = "192.0.2.1:4711"
	id := who.Identity{who.KeyLogin: "alice", who.KeyPassword: "right"}
	for _, bc := range []struct {
		name string
		auth func(testing.TB) who.Authenticator
	}{
		{"bare", func(testing.TB) who.Authenticator { return newBackend() }},
		{"throttle", func(t testing.TB) who.Authenticator { th, _, _ := newThrottle(t, newBackend(), nil); return th }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := bc.auth(b)
			b.ReportAllocs()
			for b.Loop() {
				if uid, _ := a.Authenticate(r, id); uid != "alice" {
					b.Fatal(uid)
				}
			}
		})
	}
	_ = http.MethodPost
}
