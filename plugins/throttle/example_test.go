package throttle_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gowho/gowho/plugins/throttle"
	"github.com/gowho/gowho/who"
)

// passwords is a stand-in for htpasswd: alice's password is "right".
type passwords struct{ calls int }

func (p *passwords) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	p.calls++
	if id.Str(who.KeyLogin) == "alice" && id.Str(who.KeyPassword) == "right" {
		return "alice", nil
	}
	return "", nil
}

// After max_failures wrong passwords alice is banned: even the right
// password is "no", and the wrapped authenticator is not asked.
func ExampleNew() {
	backend := &passwords{}
	t, err := throttle.New(throttle.Options{Authenticator: backend, MaxFailures: 3, Mode: throttle.ModeUser,
		Logger: quiet()})
	if err != nil {
		fmt.Println(err)
		return
	}
	try := func(pw string) string {
		uid, _ := t.Authenticate(httptest.NewRequest("POST", "/login", nil), who.Identity{who.KeyLogin: "alice", who.KeyPassword: pw})
		return fmt.Sprintf("%q", uid)
	}
	fmt.Println(try("right"), try("a"), try("b"), try("c"), try("right"))
	fmt.Println("calls:", backend.calls, "bans:", t.Stats().Bans)
	// Output:
	// "alice" "" "" "" ""
	// calls: 4 bans: 1
}
