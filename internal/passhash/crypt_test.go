package passhash

import "testing"

// TestMD5Crypt checks against OpenSSL (`openssl passwd -apr1 -salt
// saltsalt wonderland`, `openssl passwd -1 -salt abcdefgh 'pass word'`).
func TestMD5Crypt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ password, salt, magic, want string }{
		{"wonderland", "saltsalt", "$apr1$", "$apr1$saltsalt$WoESZIlCyPaOHxFHP.vy51"},
		{"pass word", "abcdefgh", "$1$", "$1$abcdefgh$yTpYrEJJOuAsO2Aee15/D1"},
	} {
		if got := MD5Crypt(tc.password, tc.salt, tc.magic); got != tc.want {
			t.Errorf("MD5Crypt(%q, %q, %q) = %q, want %q", tc.password, tc.salt, tc.magic, got, tc.want)
		}
		if salt, ok := ParseMD5Crypt(tc.want, tc.magic); !ok || salt != tc.salt {
			t.Errorf("ParseMD5Crypt(%q) = %q, %v", tc.want, salt, ok)
		}
	}
	for _, bad := range []string{"$apr1$saltsalt$short", "$apr1$toolongsalt$WoESZIlCyPaOHxFHP.vy51", "$1$abcdefgh$yTpYrEJJOuAsO2Aee15/D1"} {
		if _, ok := ParseMD5Crypt(bad, "$apr1$"); ok {
			t.Errorf("ParseMD5Crypt(%q, $apr1$) accepted it", bad)
		}
	}
}

func TestLooksLikeHash(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"$6$salt$abc": true, "$2y$10$x": true, "{SHA}abc": true, "{SHA256.HEX}ab": true, "{BLF_CRYPT}x": true,
		"abcdefghijklm": true, // 13 crypt characters: DES
		"":              false, "secret": false, "$": false, "$$x": false, "{}x": false, "{a b}x": false,
		"abcdefghijkl!": false, "$UPPER$x": false,
	} {
		if got := LooksLikeHash(v); got != want {
			t.Errorf("LooksLikeHash(%q) = %v, want %v", v, got, want)
		}
	}
}
