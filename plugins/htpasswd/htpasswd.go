package htpasswd

import (
	"bytes"
	"crypto/sha256"
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

	"github.com/gowho/gowho/internal/passhash"
	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
	"golang.org/x/crypto/bcrypt"
)

// DefaultReloadInterval is how often, at most, the file's modification
// time and size are checked when Options.ReloadInterval is zero.
const DefaultReloadInterval = time.Second

// settleTime is how long a periodic check must have seen a changed file
// unchanged (the same inode, size and modification time, by the plugin's
// own clock) before it swaps it in: a file rewritten in place is not
// served between its truncation and its last write.
const settleTime = time.Second

// mtimeGranule is the coarsest modification-time resolution the plugin
// allows for (FAT's 2 s). A file read less than this after its
// modification time is read again at the next check, since a rewrite of
// the same size within the same tick would not show.
const mtimeGranule = 2 * time.Second

// incompleteGrace is how long a file that is empty or lacks its final
// newline must have been seen unchanged before it replaces the table
// (for Reload: how old its modification time must be): until then it is
// taken for an in-place rewrite that stalled between its truncation and
// its last write. The plugin's own clock is used where it can be: during
// a truncation a file can briefly show size 0 with its old mtime.
const incompleteGrace = time.Minute

// Errors callers can test with errors.Is.
var (
	// ErrNoFilename is returned by New without a filename.
	ErrNoFilename = errors.New("htpasswd: filename is required")
	// ErrBadCheckFn is returned by New for a check_fn it does not know.
	ErrBadCheckFn = errors.New("htpasswd: unknown check_fn")
	// ErrBadMaxPasswordBytes is returned by New for a negative
	// max_password_bytes.
	ErrBadMaxPasswordBytes = errors.New("htpasswd: max_password_bytes must not be negative")
	// ErrFileChanging is returned (wrapped) by Reload, and New after
	// retrying, when the file changed while it was read or looks half
	// written: the last good contents stay in use and a later check
	// tries again.
	ErrFileChanging = errors.New("htpasswd: the file is being written (it changed during the read, or was modified less than a minute ago and is empty or lacks its final newline); write a temporary file and rename it over the old one")
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
	// ReloadInterval is how often, at most, the file's modification time,
	// size and inode are checked; the file is re-read only when they
	// changed, and swapped in once a later check has seen it unchanged for
	// a second (a minute when it is empty or lacks its final newline), so
	// an in-place rewrite is never served half-written (key
	// "reload_interval", default "1s"). Negative: never re-read.
	ReloadInterval who.Duration `toml:"reload_interval"`
	// MaxPasswordBytes is the longest password checked, in bytes (key
	// "max_password_bytes", default who.DefaultMaxPasswordBytes, 1024). A
	// longer one is answered "no" without being hashed, for known and
	// unknown users alike.
	MaxPasswordBytes int `toml:"max_password_bytes"`
	// Logger receives bad-line warnings and reload failures; nil:
	// slog.Default(). The factory passes the chain's logger.
	Logger *slog.Logger `toml:"-"`
}

// Plugin authenticates logins and passwords against an htpasswd file. It
// is safe for concurrent use.
type Plugin struct {
	path        string
	allowPlain  bool
	interval    time.Duration
	maxPassword int
	settle      time.Duration // settleTime; tests change it
	log         *slog.Logger
	now         func() time.Time
	afterRead   func() // test hook: runs between reading the file and the second stat

	tab       atomic.Pointer[table]
	nextCheck atomic.Int64 // unix nanoseconds before which the file is not checked

	mu      sync.Mutex // serialises loads; guards failing, fakes and pending
	failing bool
	fakes   map[string]*parsedHash
	pending *sighting // a changed file the periodic check waits on

	fakeChecks atomic.Int64 // unknown users checked against the fake hash
	hashes     atomic.Int64 // passwords hashed (real and fake checks)
}

// sighting is a changed file as a periodic check first saw it.
type sighting struct {
	info os.FileInfo
	seen time.Time // p.now() at the first sighting
}

// table is one load of the file.
type table struct {
	users   map[string]*parsedHash
	fake    *parsedHash // checked for unknown users
	info    os.FileInfo
	sum     [sha256.Size]byte // of the contents, to log only real changes
	recheck bool              // read within mtimeGranule of its mtime: read again
	bad     lineProblems      // lines that could not be read
	dups    lineProblems      // lines of a user named before
}

// lineProblems counts the lines of one kind of problem and keeps the
// first, so that a file of a hundred thousand bad lines gives one warning.
type lineProblems struct {
	count int
	line  int    // the first such line, from 1
	why   string // why the first was skipped (never quoting a hash)
}

func (lp *lineProblems) add(line int, why string) {
	if lp.count == 0 {
		lp.line, lp.why = line, why
	}
	lp.count++
}

// plural is "1 line" or "N lines".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// warn logs, once per load of a new content, what was skipped in t and
// whether it holds no user at all: one warning per kind of problem, with
// the count and the first line.
func (p *Plugin) warn(t *table) {
	if t.bad.count > 0 {
		p.log.Warn(fmt.Sprintf("htpasswd: %s could not be read, skipped (first at line %d: %s)",
			plural(t.bad.count, "line", "lines"), t.bad.line, t.bad.why),
			"file", p.path, "first", p.path+":"+strconv.Itoa(t.bad.line), "count", t.bad.count)
	}
	if t.dups.count > 0 {
		p.log.Warn(fmt.Sprintf("htpasswd: %s of a user named before skipped, the first line wins (first at line %d: %s)",
			plural(t.dups.count, "line", "lines"), t.dups.line, t.dups.why),
			"file", p.path, "first", p.path+":"+strconv.Itoa(t.dups.line), "count", t.dups.count)
	}
	if len(t.users) == 0 {
		p.log.Warn("htpasswd: the file holds no user: nobody can log in with it", "file", p.path)
	}
}

// New reads the file and returns the plugin. A missing or unreadable
// file is an error naming the path. Bad lines and repeated users are
// skipped with one warning each kind (the count and the first line), and a
// file without a single user is a warning too.
func New(o Options) (*Plugin, error) {
	if o.Filename == "" {
		return nil, ErrNoFilename
	}
	plain, err := parseCheckFn(o.CheckFn)
	if err != nil {
		return nil, err
	}
	if o.MaxPasswordBytes < 0 {
		return nil, fmt.Errorf("%w, got %d", ErrBadMaxPasswordBytes, o.MaxPasswordBytes)
	}
	p := &Plugin{
		path:        o.Filename,
		allowPlain:  o.AllowPlain || plain,
		interval:    o.ReloadInterval.D(),
		maxPassword: o.MaxPasswordBytes,
		settle:      settleTime,
		log:         o.Logger,
		now:         time.Now,
		fakes:       map[string]*parsedHash{},
	}
	if p.interval == 0 {
		p.interval = DefaultReloadInterval
	}
	if p.maxPassword == 0 {
		p.maxPassword = who.DefaultMaxPasswordBytes
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// A file that keeps changing while it is read is retried for about a
	// second; there is no last good table to keep yet.
	var t *table
	for range 20 {
		if t, _, err = p.load(); !errors.Is(err, ErrFileChanging) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	p.tab.Store(t)
	p.warn(t)
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
	if c := suggest.Closest(s, names); c != "" {
		return false, fmt.Errorf("%w %q (did you mean %q?)", ErrBadCheckFn, s, c)
	}
	return false, fmt.Errorf("%w %q (use auto or plain)", ErrBadCheckFn, s)
}

// Len returns the number of users loaded.
func (p *Plugin) Len() int { return len(p.tab.Load().users) }

// Authenticate returns the user name from the file when the identity's
// login and password (strings) match a line, else "". An unknown user
// costs as much as a known one: the password is checked against a fake
// hash of the file's costliest scheme and cost. A password longer than
// max_password_bytes is "no" without being hashed.
func (p *Plugin) Authenticate(_ *http.Request, id who.Identity) (string, error) {
	login, ok := id[who.KeyLogin].(string)
	if !ok || login == "" {
		return "", nil
	}
	password, ok := id[who.KeyPassword].(string)
	if !ok || len(password) > p.maxPassword {
		return "", nil
	}
	p.maybeReload()
	t := p.tab.Load()
	ph, found := t.users[login]
	if !found {
		p.fakeChecks.Add(1)
		p.verify(t.fake, password)
		return "", nil
	}
	if p.verify(ph, password) {
		return login, nil
	}
	return "", nil
}

// verify checks password against ph and counts the check in p.hashes, so
// that a test sees a hash that is skipped (the fake one of an unknown
// user included).
func (p *Plugin) verify(ph *parsedHash, password string) bool {
	p.hashes.Add(1)
	return ph.verify(password)
}

// Reload re-reads the file now if its modification time, size or identity
// changed (or it was read too soon after its last change to be sure). On
// failure the last good contents stay in use and the error is returned: a
// file that changed during the read, or was modified within the last
// minute and is empty or lacks its final newline, is an error wrapping
// ErrFileChanging (not logged; the periodic check tries again), any other
// failure is logged once.
func (p *Plugin) Reload() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reloadLocked(false)
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
	_ = p.reloadLocked(true)
}

// sameInfo reports whether a and b describe the same file (device and
// inode) with the same size and modification time.
func sameInfo(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// reloadLocked re-reads the file when it changed. A periodic check swaps
// a changed file in only once it has seen it unchanged (sameInfo) for
// p.settle, or incompleteGrace when it is empty or lacks its final
// newline; until then it keeps the table and looks again at the next
// check. Reload (periodic false) reads at once. p.mu is held.
func (p *Plugin) reloadLocked(periodic bool) error {
	fi, err := os.Stat(p.path)
	if err != nil {
		p.failed(err)
		return err
	}
	cur := p.tab.Load()
	unchanged := sameInfo(fi, cur.info)
	if unchanged && !cur.recheck {
		p.pending = nil
		p.recovered()
		return nil
	}
	now := p.now()
	if periodic && !unchanged {
		if p.pending == nil || !sameInfo(fi, p.pending.info) {
			p.pending = &sighting{info: fi, seen: now}
		}
		if now.Sub(p.pending.seen) < p.settle {
			return nil // changed lately: the next check looks again
		}
	}
	t, complete, err := p.load()
	if errors.Is(err, ErrFileChanging) {
		p.pending = nil
		p.log.Debug("htpasswd: file changing; keeping the last good contents", "file", p.path)
		return err
	}
	if err != nil {
		p.failed(err)
		return err
	}
	p.recovered()
	switch {
	case periodic:
		want := cur.info // a re-check: the file read before
		if !unchanged {
			want = p.pending.info
		}
		if !sameInfo(t.info, want) { // changed since the stat: start over
			p.pending = &sighting{info: t.info, seen: now}
			return nil
		}
		if !unchanged && !complete && now.Sub(p.pending.seen) < incompleteGrace {
			return nil // maybe a stalled rewrite
		}
	case !complete && now.Sub(t.info.ModTime()) < incompleteGrace:
		return fmt.Errorf("%w: %s", ErrFileChanging, p.path)
	}
	p.pending = nil
	p.tab.Store(t)
	if t.sum != cur.sum {
		p.log.Info("htpasswd: file reloaded", "file", p.path, "users", len(t.users))
		p.warn(t)
	}
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

// read reads the file and checks that the read can be trusted: the file
// had the same inode, size and modification time before and after it,
// the path still names it, and exactly its size was read; otherwise the
// error wraps ErrFileChanging.
func (p *Plugin) read() (data []byte, fi os.FileInfo, err error) {
	f, err := os.Open(p.path)
	if err != nil {
		return nil, nil, fmt.Errorf("htpasswd: %w", err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("htpasswd: %w", err)
	}
	data, err = io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("htpasswd: %w", err)
	}
	if p.afterRead != nil {
		p.afterRead()
	}
	after, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("htpasswd: %w", err)
	}
	named, err := os.Stat(p.path)
	if err != nil {
		return nil, nil, fmt.Errorf("htpasswd: %w", err)
	}
	if !sameInfo(before, after) || !sameInfo(after, named) || int64(len(data)) != after.Size() {
		return nil, nil, fmt.Errorf("%w: %s", ErrFileChanging, p.path)
	}
	return data, after, nil
}

// load reads (see read) and parses the file. complete says whether it is
// not empty and ends with a newline. The table is marked for a re-check
// when the file was modified less than mtimeGranule ago. p.mu is held.
func (p *Plugin) load() (t *table, complete bool, err error) {
	data, fi, err := p.read()
	if err != nil {
		return nil, false, err
	}
	recent := p.now().Sub(fi.ModTime()) < mtimeGranule // also when in the future
	complete = bytes.HasSuffix(data, []byte("\n"))
	t = &table{users: map[string]*parsedHash{}, info: fi, sum: sha256.Sum256(data), recheck: recent}
	best, bestWork := parsedHash{scheme: SchemeAPR1}, -1.0
	text := strings.TrimPrefix(string(data), "\ufeff")
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		user, ph, err := parseLine(line, p.allowPlain)
		if err != nil {
			t.bad.add(n, strings.TrimPrefix(err.Error(), "htpasswd: "))
			continue
		}
		if user == "" {
			continue // blank or comment
		}
		if _, dup := t.users[user]; dup {
			t.dups.add(n, fmt.Sprintf("user %q", user))
			continue
		}
		t.users[user] = ph
		if w := work(ph.scheme, ph.cost); w > bestWork {
			best, bestWork = *ph, w
		}
	}
	t.fake = p.fake(best.scheme, best.cost)
	return t, complete, nil
}

// fake returns a hash of a random password with scheme and cost, made
// once per plugin. A bcrypt or SHA-crypt fake is made at the scheme's
// cheapest cost and then given the file's cost, which only the check
// pays: one costly line in the file must not cost the load (held under
// p.mu, on a request's goroutine) a hash at its cost too. p.mu is held.
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
	case SchemeBcrypt:
		if h, err = HashCost(scheme, secret, bcrypt.MinCost); err == nil {
			h = fmt.Sprintf("%s%02d%s", h[:4], cost, h[6:]) // "$2y$04$…": the cost digits
		}
	case SchemeSHA256, SchemeSHA512:
		if h, err = HashCost(scheme, secret, shaRoundsMin); err == nil {
			h = strings.Replace(h, "$rounds="+strconv.Itoa(shaRoundsMin)+"$", "$rounds="+strconv.Itoa(cost)+"$", 1)
		}
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
			*ph = parsedHash{scheme: SchemeAPR1, hash: passhash.MD5Crypt(secret, "fakesalt", "$apr1$"), salt: "fakesalt"}
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
	case errors.Is(err, ErrUnknownScheme) && allowPlain && !passhash.LooksLikeHash(rest):
		return user, &parsedHash{scheme: SchemePlain, hash: rest}, nil
	}
	return "", nil, err
}

var _ who.Authenticator = (*Plugin)(nil)
