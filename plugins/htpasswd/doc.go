// Package htpasswd is an authenticator that checks logins and passwords
// against an Apache htpasswd file, in every scheme Apache's htpasswd
// writes: bcrypt, apr1-MD5, {SHA}, SHA-256/512-crypt, DES crypt and,
// when allowed, clear text (plus glibc MD5-crypt).
//
// The file is parsed once and re-read only when its modification time,
// size or inode changes (checked at most once per reload_interval), and
// swapped in only after a stable read: a file being rewritten in place is
// never served half-written. Bad lines are skipped with a warning naming
// file and line. Unknown users cost as much time as the costliest line;
// passwords over max_password_bytes are refused without hashing. Hash and Verify are the hashing primitives on their
// own, for tools that write htpasswd files.
//
// In who.toml (filename is relative to the configuration file):
//
//	[plugin.htpasswd]
//	use = "htpasswd"
//	filename = "users.htpasswd"
//	reload_interval = "5s"
//
//	[authenticators]
//	plugins = ["htpasswd"]
//
// From Go:
//
//	ht, err := htpasswd.New(htpasswd.Options{Filename: "/etc/myapp/users.htpasswd"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mw, err := who.New(who.Config{
//		Identifiers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
//		Authenticators: []who.Entry{{Name: "htpasswd", Plugin: ht}},
//		Challengers:    []who.Entry{{Name: "basicauth", Plugin: ba}},
//	})
package htpasswd
