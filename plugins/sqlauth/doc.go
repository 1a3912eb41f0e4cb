// Package sqlauth authenticates users against a SQL table and adds rows of
// metadata (groups, profile) to the identity, with database/sql.
//
// It is repoze.who.plugins.sql with a pooled *sql.DB instead of one
// connection kept forever, context timeouts, :name parameters from the
// identity rewritten to the driver's placeholders, and password
// comparison by scheme (bcrypt, Apache MD5, {SHA} hex or base64, {SSHA},
// passlib's $pbkdf2-sha512$ that CKAN stores and its -sha256 and SHA-1
// kin; with salted_hex, the salted SHA-1 and SHA-256 hex of CKAN before
// passlib and of TurboGears 2; clear text only with allow_plain, and never
// for a hash-shaped value), in constant time. An unknown user is checked
// against a fake hash of the costliest scheme seen, so it takes as long as
// a wrong password; a password over max_password_bytes is "no" without a
// query. The program imports the driver (modernc.org/sqlite registers
// "sqlite").
//
//	[plugin.users]
//	use = "sqlauth"
//	driver = "sqlite"
//	dsn = "users.db"
//	query = "SELECT id, password FROM users WHERE login = :login"
//	metadata_query = "SELECT g.name FROM groups g JOIN members m ON m.gid = g.id WHERE m.uid = :userid"
//	name = "groups"
//
// From Go:
//
//	p, err := sqlauth.New(sqlauth.Options{
//		DB:    db,
//		Query: "SELECT id, password FROM users WHERE login = :login",
//	})
package sqlauth
