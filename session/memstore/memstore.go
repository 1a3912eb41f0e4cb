package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gowho/gowho/session"
)

// Defaults of Options.
const (
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 64 << 20
)

// Options bound a Store's memory.
type Options struct {
	// MaxEntries bounds the number of sessions (default 100000).
	MaxEntries int
	// MaxBytes bounds the bytes of records kept (default 64 MiB).
	MaxBytes int
}

// Store keeps sessions in this process's memory: they are lost at restart
// and not shared between processes. Expired records are dropped when read
// and when room is needed. When full, the least recently saved anonymous
// session makes room; an authenticated session (one holding a userid,
// as the manager reports through SaveInfo) is evicted only to make room
// for another authenticated one, and only when no anonymous session is
// left, so a flood of anonymous sessions cannot log users out. An
// anonymous session that finds the store full of live authenticated ones
// is not kept (its next request starts afresh). Every operation is O(1).
// Safe for concurrent use.
type Store struct {
	o     Options
	mu    sync.Mutex
	m     map[string]*entry
	bytes int
	anon  list                           // anonymous sessions, least recently saved first
	auth  list                           // authenticated sessions, least recently saved first
	users map[string]map[*entry]struct{} // by userid, for UserSessions
}

type entry struct {
	id         string
	rec        []byte
	expiry     int64 // unix nanos; 0: never
	auth       bool
	user       string // SaveInfo.UserID
	prev, next *entry
}

// list is an intrusive doubly linked list of entries.
type list struct{ head, tail *entry }

func (l *list) pushBack(e *entry) {
	e.prev, e.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *list) remove(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

var (
	_ session.Store         = (*Store)(nil)
	_ session.SaveInfoStore = (*Store)(nil)

	_ session.UserIndexStore = (*Store)(nil)
)

// New returns an empty store.
func New(o Options) *Store {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return &Store{o: o, m: map[string]*entry{}, users: map[string]map[*entry]struct{}{}}
}

// Load returns the record of id.
func (st *Store) Load(_ context.Context, token string) (string, []byte, bool, error) {
	if !session.ValidID(token) {
		return "", nil, false, nil
	}
	now := time.Now().UnixNano()
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.m[token]
	if !ok {
		return "", nil, false, nil
	}
	if e.expired(now) {
		st.remove(e)
		return "", nil, false, nil
	}
	return token, e.rec, true, nil
}

// Save stores a copy of rec under id until expiry, as an anonymous
// session. The manager calls SaveInfo instead.
func (st *Store) Save(ctx context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	return st.SaveInfo(ctx, id, rec, expiry, session.SaveInfo{})
}

// SaveInfo stores a copy of rec under id until expiry; info.Authenticated
// keeps it ahead of anonymous sessions when room is needed. With
// info.Existing it stores nothing, and returns an error wrapping
// session.ErrGone, when id's record was deleted, evicted or expired: the
// check and the write are one step under the store's lock.
func (st *Store) SaveInfo(_ context.Context, id string, rec []byte, expiry time.Time, info session.SaveInfo) (string, error) {
	e := &entry{id: id, rec: append([]byte(nil), rec...), auth: info.Authenticated, user: info.UserID}
	if !expiry.IsZero() {
		e.expiry = expiry.UnixNano()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.m[id]
	if ok {
		st.remove(old)
	}
	if info.Existing && (!ok || old.expired(time.Now().UnixNano())) {
		return "", fmt.Errorf("memstore: %w", session.ErrGone)
	}
	if !st.makeRoom(len(e.rec), e.auth) {
		return id, nil // not kept: see Store
	}
	st.m[id] = e
	st.bytes += len(e.rec)
	if e.auth {
		st.auth.pushBack(e)
	} else {
		st.anon.pushBack(e)
	}
	if e.user != "" {
		set := st.users[e.user]
		if set == nil {
			set = map[*entry]struct{}{}
			st.users[e.user] = set
		}
		set[e] = struct{}{}
	}
	return id, nil
}

// UserSessions returns the ids of the live sessions last saved with
// SaveInfo.UserID userid. The index moves with the record: a session
// saved for another user, deleted, evicted or expired leaves it at once.
func (st *Store) UserSessions(_ context.Context, userid string) ([]string, error) {
	now := time.Now().UnixNano()
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	for e := range st.users[userid] {
		if e.expired(now) {
			st.remove(e)
			continue
		}
		ids = append(ids, e.id)
	}
	return ids, nil
}

// Delete removes id.
func (st *Store) Delete(_ context.Context, id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e, ok := st.m[id]; ok {
		st.remove(e)
	}
	return nil
}

// Len returns the number of records held (expired ones included until
// they are dropped).
func (st *Store) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}

func (e *entry) expired(now int64) bool { return e.expiry != 0 && now >= e.expiry }

func (st *Store) remove(e *entry) {
	delete(st.m, e.id)
	st.bytes -= len(e.rec)
	if e.auth {
		st.auth.remove(e)
	} else {
		st.anon.remove(e)
	}
	if e.user != "" {
		set := st.users[e.user]
		delete(set, e)
		if len(set) == 0 {
			delete(st.users, e.user)
		}
	}
}

// makeRoom makes room for a record of n bytes, evicting least recently
// saved records: expired ones first (at the head of either list), then
// anonymous ones, then, for an authenticated record only, authenticated
// ones. It reports false when the record must not be kept. Each step
// removes one record, so the work is O(1) amortized per save. It runs
// with st.mu held.
func (st *Store) makeRoom(n int, auth bool) bool {
	if n > st.o.MaxBytes {
		return false // would never fit: evicting everyone first would not help
	}
	full := func() bool { return len(st.m) >= st.o.MaxEntries || st.bytes+n > st.o.MaxBytes }
	if !full() {
		return true
	}
	now := time.Now().UnixNano()
	for full() {
		switch {
		case st.auth.head != nil && st.auth.head.expired(now):
			st.remove(st.auth.head)
		case st.anon.head != nil:
			st.remove(st.anon.head)
		case auth && st.auth.head != nil:
			st.remove(st.auth.head)
		default:
			// Only live authenticated sessions are left: an anonymous
			// record is not kept.
			return false
		}
	}
	return true
}
