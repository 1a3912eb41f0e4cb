package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gowho/gowho/session"
)

// DefaultSweepInterval is the default of Options.SweepInterval.
const DefaultSweepInterval = 10 * time.Minute

// tmpPrefix starts the name of a file being written.
const tmpPrefix = ".tmp-"

// usersDir holds the per-user index: a directory per userid (named by the
// hex SHA-256 of the userid) holding an empty file per session id, whose
// modification time is the session's expiry.
const usersDir = ".users"

// never is the index time of a session without expiry (within
// Chtimes's nanoseconds and ext4's times).
var never = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a Store.
type Options struct {
	// Dir holds one file per session (key data_dir, required). It is
	// created with mode 0700 when missing.
	Dir string
	// SweepInterval is how often expired files (and temporary files left
	// by a crash) are removed (default 10m; negative: never, call Sweep).
	SweepInterval time.Duration
}

// Store keeps one file per session, mode 0600, named by the session id
// and written atomically (a temporary file renamed over the old one).
// Several processes may share the directory. Safe for concurrent use;
// Close stops the sweeper.
type Store struct {
	dir  string
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

var (
	_ session.Store          = (*Store)(nil)
	_ session.UserIndexStore = (*Store)(nil)
)

// New opens (creating it if needed) the directory and starts the sweeper.
func New(o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, errors.New("filestore: data_dir is required")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	st := &Store{dir: o.Dir, stop: make(chan struct{})}
	if o.SweepInterval == 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.SweepInterval > 0 {
		st.wg.Add(1)
		go st.sweeper(o.SweepInterval)
	}
	return st, nil
}

func (st *Store) path(id string) string { return filepath.Join(st.dir, id) }

// Load reads the file of session token.
func (st *Store) Load(_ context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) { // also keeps path traversal out
		return "", nil, false, nil
	}
	b, err := os.ReadFile(st.path(token))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("filestore: %w", err)
	}
	rec, ok := session.UnwrapExpiry(b, time.Now())
	if !ok {
		return "", nil, false, nil
	}
	return token, rec, true, nil
}

// Save writes rec to a temporary file and renames it over id's file.
func (st *Store) Save(_ context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	return st.write(id, rec, expiry, false)
}

// replaceChecked renames tmp over dst if dst exists, and reports whether
// it did. Between the check and the rename, another process may delete
// dst, which the rename then writes back: the fallback where
// RENAME_EXCHANGE is missing (outside Linux, or a file system without
// it).
func replaceChecked(tmp, dst string) (bool, error) {
	if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, os.Rename(tmp, dst)
}

// write writes rec to a temporary file and renames it over id's file;
// with existing, only if id's file is still there (else session.ErrGone).
func (st *Store) write(id string, rec []byte, expiry time.Time, existing bool) (string, error) {
	if !session.ValidID(id) {
		return "", errors.New("filestore: bad session id")
	}
	f, err := os.CreateTemp(st.dir, tmpPrefix+"*") // mode 0600
	if err != nil {
		return "", fmt.Errorf("filestore: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(session.WrapExpiry(rec, expiry))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	replaced := true
	switch {
	case err == nil && existing:
		replaced, err = replaceExisting(tmp, st.path(id))
	case err == nil:
		err = os.Rename(tmp, st.path(id))
	}
	if err != nil || !replaced {
		_ = os.Remove(tmp)
	}
	if err != nil {
		return "", fmt.Errorf("filestore: %w", err)
	}
	if !replaced {
		return "", fmt.Errorf("filestore: %w", session.ErrGone)
	}
	return id, nil
}

// SaveInfo is Save, after it indexes id under info.UserID (when set) so
// that UserSessions finds it. With info.Existing it writes only over id's
// file, if that is still there, and returns an error wrapping
// session.ErrGone otherwise: on Linux the check and the write are one
// atomic rename (RENAME_EXCHANGE), so a session deleted by another request
// or process stays deleted; elsewhere a check precedes the rename.
func (st *Store) SaveInfo(_ context.Context, id string, rec []byte, expiry time.Time, info session.SaveInfo) (string, error) {
	if info.UserID != "" && session.ValidID(id) {
		if err := st.index(info.UserID, id, expiry); err != nil {
			return "", fmt.Errorf("filestore: index: %w", err)
		}
	}
	return st.write(id, rec, expiry, info.Existing)
}

func (st *Store) userDir(userid string) string {
	h := sha256.Sum256([]byte(userid))
	return filepath.Join(st.dir, usersDir, hex.EncodeToString(h[:]))
}

// index puts id's entry, timed at expiry, in userid's directory: written
// as a temporary file, given its time, then renamed, so the sweeper never
// sees an entry without its time.
func (st *Store) index(userid, id string, expiry time.Time) error {
	if expiry.IsZero() {
		expiry = never
	}
	f, err := os.CreateTemp(st.dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Close()
	if err == nil {
		err = os.Chtimes(tmp, expiry, expiry)
	}
	dir := st.userDir(userid)
	for attempt := 0; err == nil && attempt < 3; attempt++ {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			break
		}
		err = os.Rename(tmp, filepath.Join(dir, id))
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
		// The sweeper removed the empty directory meanwhile: again.
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// UserSessions returns the ids indexed under userid whose entry has not
// expired; expired entries are removed.
func (st *Store) UserSessions(_ context.Context, userid string) ([]string, error) {
	dir := st.userDir(userid)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	now := time.Now()
	var ids []string
	for _, e := range entries {
		if !session.ValidID(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if !now.Before(info.ModTime()) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		ids = append(ids, e.Name())
	}
	return ids, nil
}

// sweepIndex removes expired index entries and the user directories left
// empty; it returns the number of entries removed.
func (st *Store) sweepIndex(now time.Time) int {
	root := filepath.Join(st.dir, usersDir)
	users, err := os.ReadDir(root)
	if err != nil {
		return 0
	}
	n := 0
	for _, u := range users {
		dir := filepath.Join(root, u.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if info, err := e.Info(); err == nil && !now.Before(info.ModTime()) {
				if os.Remove(filepath.Join(dir, e.Name())) == nil {
					n++
				}
			}
		}
		_ = os.Remove(dir) // fails while it holds entries
	}
	return n
}

// Delete removes id's file.
func (st *Store) Delete(_ context.Context, id string) error {
	if !session.ValidID(id) {
		return nil
	}
	if err := os.Remove(st.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// Sweep removes expired session files, expired entries of the per-user
// index, and temporary files older than an hour. It returns the number of
// files removed.
func (st *Store) Sweep() (int, error) {
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		return 0, fmt.Errorf("filestore: %w", err)
	}
	now := time.Now()
	n := 0
	for _, e := range entries {
		name := e.Name()
		p := st.path(name)
		switch {
		case strings.HasPrefix(name, tmpPrefix):
			// An index entry being written carries its expiry as its
			// time (see index): a far future time is a crash's leftover
			// too, or, in a rare race, an entry whose save then fails.
			if info, err := e.Info(); err == nil && (now.Sub(info.ModTime()) > time.Hour || info.ModTime().Sub(now) > 48*time.Hour) {
				if os.Remove(p) == nil {
					n++
				}
			}
		case session.ValidID(name):
			b, err := readHead(p)
			if err != nil {
				continue
			}
			if _, ok := session.UnwrapExpiry(b, now); !ok {
				if os.Remove(p) == nil {
					n++
				}
			}
		}
	}
	n += st.sweepIndex(now)
	return n, nil
}

// readHead reads the expiry header of a session file.
func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 8)
	n, _ := f.Read(b)
	return b[:n], nil
}

func (st *Store) sweeper(every time.Duration) {
	defer st.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
			_, _ = st.Sweep()
		}
	}
}

// Close stops the sweeper.
func (st *Store) Close() error {
	st.once.Do(func() { close(st.stop) })
	st.wg.Wait()
	return nil
}
