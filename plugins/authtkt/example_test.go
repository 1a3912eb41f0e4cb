package authtkt_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/gowho/gowho/plugins/authtkt"
	"github.com/gowho/gowho/who"
)

func ExampleTicket_Cookie() {
	t := authtkt.Ticket{UserID: "alice", Time: time.Unix(1700000000, 0)}
	v, _ := t.Cookie("s33kr1t", "md5")
	fmt.Println(v)
	// Output: aa9330a397e010c15f732ae177ed1f126553f100alice!
}

func ExampleParse() {
	t, err := authtkt.Parse("s33kr1t", `"aa9330a397e010c15f732ae177ed1f126553f100alice!"`, nil, "md5")
	fmt.Println(t.UserID, t.Time.Unix(), err)
	_, err = authtkt.Parse("wrong", "aa9330a397e010c15f732ae177ed1f126553f100alice!", nil, "md5")
	fmt.Println(errors.Is(err, authtkt.ErrBadDigest))
	// Output:
	// alice 1700000000 <nil>
	// true
}

func ExampleNew() {
	p, err := authtkt.New(authtkt.Options{
		Secret: "example-secret-of-32-bytes-or-more", // use secretfile or ${ENV} in who.toml
		Now:    func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "http://example.com/", nil)
	h := p.Remember(r, who.Identity{who.KeyUserID: "alice"})
	fmt.Println(h.Get("Set-Cookie"))
	// Output: auth_tkt="3f76ec7d5421c2935a3ddda5fb8dde7e6553f100alice!"; Path=/; HttpOnly; SameSite=Lax
}
