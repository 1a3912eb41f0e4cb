package sqlauth_test

import (
	"fmt"

	"github.com/gowho/gowho/plugins/sqlauth"
)

// Compare recognises the stored value's scheme.
func ExampleCompare() {
	fmt.Println(sqlauth.Compare("{SHA}e32bd4da70c88e0faa434e00806b31d44821eb72", "alice-pass", false))
	fmt.Println(sqlauth.Compare("$apr1$2UmekLgz$sLiamQ9vu8ahmNXrjbgb7/", "dave-pass", false))
	fmt.Println(sqlauth.Compare("$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", "secret", false))
	fmt.Println(sqlauth.Compare("bob-pass", "bob-pass", false), sqlauth.Compare("bob-pass", "bob-pass", true))
	// passlib's pbkdf2_sha512 (what CKAN stores), here of 1000 rounds.
	fmt.Println(sqlauth.Compare("$pbkdf2-sha512$1000$ydnbe48xxphTak1prXVu7Q$oRg7KwlpKkOu20WwUDgLzbXJy6XALiiVy2iFfy1IfBOuyArvvHJBWgX5rpuKX6Gj0DrNciM1Ovimt/BzZbJvAQ", "ckan-pass", false))
	// Output:
	// true
	// true
	// true
	// false true
	// true
}
