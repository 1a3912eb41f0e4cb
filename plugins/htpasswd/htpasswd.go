package htpasswd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowho/gowho/who"
)

// DefaultReloadInterval is how often, at most, the file's modification
// time and size are checked when Options.ReloadInterval is zero.
const DefaultReloadInterval = time.Second

// Errors callers can test with errors.Is.
var (
	// ErrNoFilename is returned by New without a filename.
	ErrNoFilename = errors.New("htpasswd: filename is required")
	// ErrBadCheckFn is returned by New for a check_fn it does not know.
	ErrBadCheckFn = errors.New("htpasswd: unknown check_fn")
)

// Line errors: why a line was skipped.
var (
	errNoColon   = errors.New("no colon")
	errEmptyUser = errors.New("empty user name")
	errEmptyHash = errors.New("empty hash")
)

// Options configures the plugin.
type Options struct {
	// Filename is the htpasswd file (key "filename", required). The
	// factory resolves a relative path against the configuration file's
	// directory.
	Filename string `toml:"filename"`
	// CheckFn selects how lines are checked (key "check_fn", default
	// "auto"): "auto" detects each line's scheme from its prefix; "plain"
	// also reads lines that are no hash as clear text (as AllowPlain).
	// repoze.who's "repoze.who.plugins.htpasswd:crypt_check" and
	// ":sha1_check", "crypt", "sha1" and "bcrypt:checkpw" mean "auto";
	// ":plain_check" means "plain".
	CheckFn string `toml:"check_fn"`
	// AllowPlain reads a line that is no known hash as a clear-text
	// password (key "allow_plain", default false). A line shaped like a
	// hash ("$id$…", "{NAME}…", or 13 crypt characters, which is DES) is
	// never read as clear text.
	AllowPlain bool `toml:"allow_plain"`
	// ReloadInterval is how often, at most, the file's modification time
	// and size are checked; the file is re-read only when they changed
	// (key "reload_interval", default "1s"). Negative: never re-read.
	ReloadInterval who.Duration `toml:"reload_interval"`
	// Logger receives bad-line warnings and reload failures; nil:
	// slog.Default(). The factory passes the chain's logger.
	Logger *slog.Logger `toml:"-"`
}

// Plugin authenticates logins and passwords against an htpasswd file. It
// is safe for concurrent use.
type Plugin struct {
	path       string
	allowPlain bool
	interval   time.Duration
	log        *slog.Logger
	now        func() time.Time

	tab       atomic.Pointer[table]
	nextCheck atomic.Int64 // unix nanoseconds before which the file is not checked

	mu      sync.Mutex // serialises loads; guards failing and fakes
	failing bool
	fakes   map[string]*parsedHash

	fakeChecks atomic.Int64 // unknown users checked against the fake hash
}

// table is one load of the file.
type table struct {
	users map[string]*parsedHash
	fake  *parsedHash // checked for unknown users
	info  os.FileInfo
}

// New reads the file and returns the plugin. A missing or unreadable
// file is an error naming the path; bad lines are skipped with a warning.
func New(o Options) (*Plugin, error) {
	if o.Filename == "" {
		return nil, ErrNoFilename
	}
	plain, err := parseCheckFn(o.CheckFn)
	if err != nil {
		return nil, err
	}
	p := &Plugin{
		path:       o.Filename,
		allowPlain: o.AllowPlain || plain,
		interval:   o.ReloadInterval.D(),
		log:        o.Logger,
		now:        time.Now,
		fakes:      map[string]*parsedHash{},
	}
	if p.interval == 0 {
		p.interval = DefaultReloadInterval
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, err := p.load()
	if err != nil {
		return nil, err
	}
	p.tab.Store(t)
	p.nextCheck.Store(p.now().Add(p.interval).UnixNano())
	return p, nil
}

// checkFns maps the check_fn values to "plain allowed".
var checkFns = map[string]bool{
	"":               false,
	"auto":           false,
	"crypt":          false,
	"sha1":           false,
	"plain":          true,
	"bcrypt:checkpw": false,
	"repoze.who.plugins.htpasswd:crypt_check":     false,
	"repoze.who.plugins.htpasswd:sha1_check":      false,
	"repoze.who.plugins.htpasswd:plain_check":     true,
	"repoze.who.plugins.htpasswd:cleartext_check": true,
}

func parseCheckFn(s string) (plain bool, err error) {
	plain, ok := checkFns[s]
	if ok {
		return plain, nil
	}
	names := []string{"auto", "plain", "crypt", "sha1"}
	for k := range checkFns {
		if strings.Contains(k, ":") {
			names = append(names, k)
		}
	}
	if c := who.Closest(s, names); c != "" {
		return false, fmt.Errorf("%w %q (did you mean %q?)", ErrBadCheckFn, s, c)
	}
	return false, fmt.Errorf("%w %q (use auto or plain)", ErrBadCheckFn, s)
}

// Len returns the number of users loaded.
func (p *Plugin) Len() int { return len(p.tab.Load().users) }

// Authenticate returns the user name from the file when the identity's
// login and password (strings) match a line, else "". An unknown user
// costs as much as a known one: the password is checked against a fake
// hash of the file's most common scheme and cost.
func (p *Plugin) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	login, ok := id[who.KeyLogin].(string)
	if !ok || login == "" {
		return "", nil
	}
	password, ok := id[who.KeyPassword].(string)
	if !ok {
		return "", nil
	}
	p.maybeReload()
	t := p.tab.Load()
	ph, found := t.users[login]
	if !found {
		p.fakeChecks.Add(1)
		t.fake.verify(password)
		return "", nil
	}
	if ph.verify(password) {
		return login, nil
	}
	return "", nil
}

// Reload re-reads the file now if its modification time, size or identity
// changed. On failure the last good contents stay in use and the error is
// returned (and logged once).
func (p *Plugin) Reload() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reloadLocked()
}

// maybeReload checks the file at most once per interval; one request does
// the check while the others go on with the current table.
func (p *Plugin) maybeReload() {
	if p.interval < 0 {
		return
	}
	now := p.now().UnixNano()
	next := p.nextCheck.Load()
	if now < next || !p.nextCheck.CompareAndSwap(next, now+int64(p.interval)) {
		return
	}
	if !p.mu.TryLock() {
		return // a Reload is running
	}
	defer p.mu.Unlock()
	_ = p.reloadLocked()
}

func (p *Plugin) reloadLocked() error {
	fi, err := os.Stat(p.path)
	if err != nil {
		p.failed(err)
		return err
	}
	cur := p.tab.Load()
	if os.SameFile(fi, cur.info) && fi.ModTime().Equal(cur.info.ModTime()) && fi.Size() == cur.info.Size() {
		p.recovered()
		return nil
	}
	t, err := p.load()
	if err != nil {
		p.failed(err)
		return err
	}
	p.tab.Store(t)
	p.recovered()
	p.log.Info("htpasswd: file reloaded", "file", p.path, "users", len(t.users))
	return nil
}

func (p *Plugin) failed(err error) {
	if !p.failing {
		p.failing = true
		p.log.Warn("htpasswd: cannot re-read the file; keeping the last good contents", "file", p.path, "err", err)
	}
}

func (p *Plugin) recovered() {
	if p.failing {
		p.failing = false
		p.log.Info("htpasswd: file readable again", "file", p.path)
	}
}

// load reads and parses the file. p.mu is held.
func (p *Plugin) load() (*table, error) {
	f, err := os.Open(p.path)
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	t := &table{users: map[string]*parsedHash{}, info: fi}
	type tally struct {
		scheme string
		cost   int
		n      int
	}
	var costs []tally
	text := strings.TrimPrefix(string(data), "\ufeff")
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		user, ph, err := parseLine(line, p.allowPlain)
		if err != nil {
			p.log.Warn("htpasswd: bad line skipped", "line", p.path+":"+strconv.Itoa(n), "err", err)
			continue
		}
		if user == "" {
			continue // blank or comment
		}
		if _, dup := t.users[user]; dup {
			p.log.Warn("htpasswd: duplicate user skipped (the first line wins)",
				"line", p.path+":"+strconv.Itoa(n), "user", user)
			continue
		}
		t.users[user] = ph
		found := false
		for i := range costs {
			if costs[i].scheme == ph.scheme && costs[i].cost == ph.cost {
				costs[i].n++
				found = true
				break
			}
		}
		if !found {
			costs = append(costs, tally{ph.scheme, ph.cost, 1})
		}
	}
	best := tally{scheme: SchemeAPR1}
	for _, c := range costs {
		if c.n > best.n {
			best = c
		}
	}
	t.fake = p.fake(best.scheme, best.cost)
	return t, nil
}

// fake returns a hash of a random password with scheme and cost, made
// once per plugin. p.mu is held.
func (p *Plugin) fake(scheme string, cost int) *parsedHash {
	key := costKey(scheme, cost)
	if ph, ok := p.fakes[key]; ok {
		return ph
	}
	secret := randomSalt(16)
	var h string
	var err error
	switch scheme {
	case SchemePlain:
		h = secret
	case SchemeSHA256, SchemeSHA512:
		if cost == shaRoundsDefault {
			cost = 0
		}
		h, err = HashCost(scheme, secret, cost)
	default:
		h, err = HashCost(scheme, secret, cost)
	}
	ph := &parsedHash{scheme: SchemePlain, hash: h}
	if scheme != SchemePlain {
		var perr error
		if err == nil {
			*ph, perr = parseHash(h)
		}
		if err != nil || perr != nil { // cannot happen; keep a working fake
			*ph = parsedHash{scheme: SchemeAPR1, hash: md5Crypt(secret, "fakesalt", "$apr1$"), salt: "fakesalt"}
		}
	}
	p.fakes[key] = ph
	return ph
}

// parseLine parses one line of an htpasswd file. It returns an empty user
// and no error for a blank line or a "#" comment, and an error saying why
// for a bad line (never quoting the hash).
//
// A line is "user:hash". Trailing spaces and a CR are dropped. As in
// Apache, anything after a further colon that follows a hash is ignored;
// a clear-text password (allowPlain) is the whole rest of the line.
func parseLine(line string, allowPlain bool) (user string, ph *parsedHash, err error) {
	line = strings.TrimRight(line, " \t\r")
	if line == "" || line[0] == '#' {
		return "", nil, nil
	}
	user, rest, found := strings.Cut(line, ":")
	switch {
	case !found:
		return "", nil, errNoColon
	case user == "":
		return "", nil, errEmptyUser
	case rest == "":
		return "", nil, errEmptyHash
	}
	if first, _, extra := strings.Cut(rest, ":"); extra {
		if h, err := parseHash(first); err == nil {
			return user, &h, nil
		}
	}
	h, err := parseHash(rest)
	switch {
	case err == nil:
		return user, &h, nil
	case errors.Is(err, ErrUnknownScheme) && allowPlain && !looksLikeHash(rest):
		return user, &parsedHash{scheme: SchemePlain, hash: rest}, nil
	}
	return "", nil, err
}

var _ who.Authenticator = (*Plugin)(nil)
