package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/who"
)

// Defaults of Options.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultMaxOpenConns = 10
	DefaultMaxIdleConns = 2
	DefaultConnLifetime = 30 * time.Minute
)

// ErrDatabase is wrapped by every error that means the database failed
// (unreachable, a query error, a timeout). A wrong password is never an
// error.
var ErrDatabase = errors.New("sqlauth: database failed")

// Options configure the plugin. The original's conn_factory is replaced
// by driver and dsn.
type Options struct {
	// Driver, key driver (required): a database/sql driver name, such as
	// "sqlite" (modernc.org/sqlite), "pgx" or "mysql". The program must
	// import the driver.
	Driver string `toml:"driver"`
	// DSN, key dsn (required): the driver's data source name. Write
	// secrets as "${ENV}".
	DSN string `toml:"dsn"`
	// Query, key query: the authenticator's query; it returns one row of
	// (userid, stored password). Parameters are :name, taken from the
	// identity (:login, :password…); :userid and :__userid are the userid.
	// Empty: the plugin is no authenticator.
	Query string `toml:"query"`
	// MetadataQuery, key metadata_query: the metadata provider's query,
	// usually with :userid; its rows go under name: with one column a
	// []string, else a []map[string]any (column name → value).
	MetadataQuery string `toml:"metadata_query"`
	// Name, key name (required with metadata_query): the identity key of
	// the metadata rows, e.g. "groups".
	Name string `toml:"name"`
	// AllowPlain, key allow_plain (default false; true under the alias
	// repoze.who.plugins.sql:make_authenticator_plugin unless set): compare
	// stored values without a recognised scheme as clear text, as
	// repoze.who's default_password_compare did. A value shaped like a
	// hash ("$id$…", "{NAME}…", 13 crypt characters) is never clear text.
	AllowPlain bool `toml:"allow_plain"`
	// SaltedHex, key salted_hex (default false): read a stored value of
	// 80 hex digits as CKAN's before passlib (40 hex of salt, then
	// sha1(password + salt) in hex) and one of 128 as TurboGears 2's
	// quickstart (64 hex of salt, then sha256(password + salt) in hex).
	// The shape alone does not tell these from other hashes (128 hex
	// digits is also a bare SHA-512), so it is opt-in; without it such
	// a value never matches, and is never clear text.
	SaltedHex bool `toml:"salted_hex"`
	// MaxPasswordBytes, key max_password_bytes (default
	// who.DefaultMaxPasswordBytes, 1024): a longer password is "no",
	// without a query or a hash.
	MaxPasswordBytes int `toml:"max_password_bytes"`
	// Placeholder, key placeholder (default "?"): the driver's positional
	// parameter style the :name parameters become: "?", "$1" (PostgreSQL),
	// "@p1" (SQL Server) or ":1" (Oracle).
	Placeholder string `toml:"placeholder"`
	// Timeout, key timeout (default 5s): each query's deadline, within
	// the request's context.
	Timeout who.Duration `toml:"timeout"`
	// MaxOpenConns, key max_open_conns (default 10); MaxIdleConns, key
	// max_idle_conns (default 2); ConnMaxLifetime, key conn_max_lifetime
	// (default 30m): the *sql.DB pool.
	MaxOpenConns    int          `toml:"max_open_conns"`
	MaxIdleConns    int          `toml:"max_idle_conns"`
	ConnMaxLifetime who.Duration `toml:"conn_max_lifetime"`

	// DB, for Go users, is an open pool to use instead of driver and dsn;
	// the plugin does not close it.
	DB *sql.DB `toml:"-"`
}

// Plugin is a database/sql authenticator and metadata provider. It is safe
// for concurrent use.
type Plugin struct {
	o       Options
	rules   rules
	db      *sql.DB
	ownDB   bool
	auth    *compiled
	md      *compiled
	timeout time.Duration

	fake       atomic.Pointer[fakeHash] // checked when no usable row is found
	fakeChecks atomic.Int64             // logins checked against the fake
	hashes     atomic.Int64             // passwords checked (real and fake)
}

// fakeHash is the costliest stored value's scheme and cost seen so far,
// as a stored value that nobody's password is expected to match.
type fakeHash struct {
	scheme scheme
	cost   int
	work   float64 // -1 until a row has been seen
	stored string
}

// DefaultFakeCost is the bcrypt cost of the fake hash an unknown user is
// checked against until the plugin has seen a row.
const DefaultFakeCost = 10

func newFake(s scheme, cost int, work float64) *fakeHash {
	return &fakeHash{scheme: s, cost: cost, work: work, stored: fakeStored(s, cost)}
}

// learn makes the fake as costly as the costliest stored value seen.
func (p *Plugin) learn(s scheme, cost int) {
	w := s.work(cost)
	for {
		cur := p.fake.Load()
		if w <= cur.work {
			return
		}
		if p.fake.CompareAndSwap(cur, newFake(s, cost, w)) {
			return
		}
	}
}

var (
	_ who.Authenticator    = (*Plugin)(nil)
	_ who.MetadataProvider = (*Plugin)(nil)
)

func optErr(key, format string, a ...any) error {
	return &who.OptionError{Key: key, Err: fmt.Errorf("sqlauth: "+format, a...)}
}

// New checks the options, compiles the queries and opens the pool (it
// does not connect: the database may come up later).
func New(o Options) (*Plugin, error) {
	if o.Query == "" && o.MetadataQuery == "" {
		return nil, optErr("query", "query and/or metadata_query is required")
	}
	if o.MetadataQuery != "" && o.Name == "" {
		return nil, optErr("name", "is required with metadata_query: the identity key of the rows")
	}
	switch o.Placeholder {
	case "":
		o.Placeholder = PlaceholderQuestion
	case PlaceholderQuestion, PlaceholderDollar, PlaceholderAt, PlaceholderColon:
	default:
		return nil, optErr("placeholder", "want \"?\", \"$1\", \"@p1\" or \":1\", got %q", o.Placeholder)
	}
	p := &Plugin{o: o, rules: rules{allowPlain: o.AllowPlain, saltedHex: o.SaltedHex}}
	if o.Query != "" {
		c, err := compile(o.Query, o.Placeholder)
		if err != nil {
			return nil, &who.OptionError{Key: "query", Err: err}
		}
		if len(c.params) == 0 {
			return nil, optErr("query", "has no :login (or other :name) parameter")
		}
		p.auth = &c
	}
	if o.MetadataQuery != "" {
		c, err := compile(o.MetadataQuery, o.Placeholder)
		if err != nil {
			return nil, &who.OptionError{Key: "metadata_query", Err: err}
		}
		p.md = &c
	}
	if o.Timeout < 0 || o.ConnMaxLifetime < 0 {
		return nil, optErr("timeout", "durations must not be negative")
	}
	switch {
	case o.MaxPasswordBytes < 0:
		return nil, optErr("max_password_bytes", "must not be negative, got %d", o.MaxPasswordBytes)
	case o.MaxPasswordBytes == 0:
		p.o.MaxPasswordBytes = who.DefaultMaxPasswordBytes
	}
	p.fake.Store(newFake(schemeBcrypt, DefaultFakeCost, -1))
	p.timeout = o.Timeout.D()
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	if o.DB != nil {
		p.db = o.DB
		return p, nil
	}
	if o.Driver == "" {
		return nil, optErr("driver", "is required (e.g. \"sqlite\", \"pgx\", \"mysql\")")
	}
	if o.DSN == "" {
		return nil, optErr("dsn", "is required")
	}
	db, err := sql.Open(o.Driver, o.DSN)
	if err != nil {
		return nil, optErr("driver", "%v (is the driver imported?)", err)
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = DefaultMaxOpenConns
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = DefaultMaxIdleConns
	}
	if o.ConnMaxLifetime == 0 {
		o.ConnMaxLifetime = who.Duration(DefaultConnLifetime)
	}
	db.SetMaxOpenConns(o.MaxOpenConns)
	db.SetMaxIdleConns(o.MaxIdleConns)
	db.SetConnMaxLifetime(o.ConnMaxLifetime.D())
	p.db, p.ownDB = db, true
	return p, nil
}

// Close closes the pool it opened.
func (p *Plugin) Close() error {
	if p.ownDB {
		return p.db.Close()
	}
	return nil
}

// args returns the query's parameters from the identity, or ok = false
// when a value has a type a query cannot take.
func args(c *compiled, id who.Identity) ([]any, bool) {
	out := make([]any, len(c.params))
	for i, name := range c.params {
		var v any
		switch name {
		case "userid", "__userid":
			v = id[who.KeyUserID]
		default:
			v = id[name]
		}
		switch v.(type) {
		case nil, string, int, int64, float64, bool:
			out[i] = v
		default:
			return nil, false
		}
	}
	return out, true
}

// Authenticate runs query and compares the password by the stored value's
// scheme. No login, no password, a password longer than
// max_password_bytes, no row or a mismatch: "". A database failure: an
// error wrapping ErrDatabase.
//
// An unknown user costs what a known one does: when there is no row, or
// the row's userid or password is unusable (NULL, empty, an unknown
// scheme), the password is checked against a fake hash of the costliest
// scheme and cost seen in the table so far (bcrypt cost 10 before any).
func (p *Plugin) Authenticate(r *http.Request, id who.Identity) (string, error) {
	pw := id.Str(who.KeyPassword)
	if p.auth == nil || id.Str(who.KeyLogin) == "" || pw == "" || len(pw) > p.o.MaxPasswordBytes {
		return "", nil
	}
	a, ok := args(p.auth, id)
	if !ok {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	var uid, stored sql.NullString
	err := p.db.QueryRowContext(ctx, p.auth.sql, a...).Scan(&uid, &stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: authenticate: %w", ErrDatabase, err)
	}
	s, cost := schemeNone, 0
	if err == nil && stored.Valid {
		s, cost = classify(stored.String, p.rules)
	}
	if s == schemeNone || !uid.Valid || uid.String == "" {
		p.fakeChecks.Add(1)
		f := p.fake.Load()
		p.check(f.scheme, f.stored, pw)
		return "", nil
	}
	p.learn(s, cost)
	if !p.check(s, stored.String, pw) {
		return "", nil
	}
	return uid.String, nil
}

// check compares pw with stored, a value of scheme s, and counts the check
// in p.hashes, so that a test sees a check that is skipped (the fake one of
// an unknown user included).
func (p *Plugin) check(s scheme, stored, pw string) bool {
	p.hashes.Add(1)
	return s.check(stored, pw)
}

// AddMetadata runs metadata_query and puts its rows under name: a
// []string with one column, else a []map[string]any. No rows: an empty
// list.
func (p *Plugin) AddMetadata(r *http.Request, id who.Identity) error {
	if p.md == nil || id.Str(who.KeyUserID) == "" {
		return nil
	}
	a, ok := args(p.md, id)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	rows, err := p.db.QueryContext(ctx, p.md.sql, a...)
	if err != nil {
		return fmt.Errorf("%w: metadata: %w", ErrDatabase, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("%w: metadata: %w", ErrDatabase, err)
	}
	var single []string
	var multi []map[string]any
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("%w: metadata: %w", ErrDatabase, err)
		}
		if len(cols) == 1 {
			single = append(single, toString(vals[0]))
			continue
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = plain(vals[i])
		}
		multi = append(multi, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: metadata: %w", ErrDatabase, err)
	}
	if len(cols) == 1 {
		if single == nil {
			single = []string{}
		}
		id[p.o.Name] = single
	} else {
		if multi == nil {
			multi = []map[string]any{}
		}
		id[p.o.Name] = multi
	}
	return nil
}

// plain converts a scanned value to identity data: []byte to string,
// times to RFC 3339.
func plain(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	default:
		return v
	}
}

func toString(v any) string {
	switch x := plain(v).(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return strings.TrimSpace(fmt.Sprint(x))
	}
}
