package who_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
)

func TestTrace(t *testing.T) {
	t.Parallel()
	m := mustNew(t, who.Config{
		Identifiers:       entries("tkt", cookieID(), "fixed", fixedID(who.Identity{who.KeyLogin: "x"})),
		Authenticators:    entries("a", acceptLogin("u-")),
		MetadataProviders: entries("md", &mdFunc{key: "k", val: "v"}),
		Challengers:       entries("c", &challenger{name: "c"}),
	})
	var events []string
	tr := &who.Trace{
		Classified: func(c string) { events = append(events, "class "+c) },
		Identified: func(p string, id who.Identity, err error) {
			events = append(events, fmt.Sprintf("identify %s found=%v", p, id != nil))
		},
		Authenticated: func(a, i string, rank [2]int, uid string, err error) {
			events = append(events, fmt.Sprintf("auth %s×%s %v %q", a, i, rank, uid))
		},
		Won:      func(res *who.Result) { events = append(events, "won "+res.UserID) },
		Metadata: func(p string, _ who.Identity, _ error) { events = append(events, "md "+p) },
		Decided:  func(status int, ch bool) { events = append(events, fmt.Sprintf("decide %d %v", status, ch)) },
		Challenged: func(c string, status int, forget http.Header) {
			events = append(events, fmt.Sprintf("challenge %s %d %s", c, status, forget.Get("Set-Cookie")))
		},
		Remembered: func(i string, h http.Header) { events = append(events, "remember "+i+" "+h.Get("Set-Cookie")) },
	}
	req := get("/", "X-Login", "bob")
	req = req.WithContext(who.WithTrace(req.Context(), tr))
	do(m, status(401, ""), req)
	want := []string{
		"class browser",
		"identify tkt found=true",
		"identify fixed found=true",
		`auth a×tkt [0 0] "u-bob"`,
		`auth a×fixed [0 1] "u-x"`,
		"won u-bob",
		"md md",
		"decide 401 true",
		"challenge c 401 tkt=INVALID; Max-Age=0",
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
	events = nil
	do(m, status(200, ""), req)
	if got := strings.Join(events, "|"); !strings.Contains(got, "decide 200 false|remember tkt tkt=u-bob") {
		t.Errorf("trace %q lacks the remember step", got)
	}
}
