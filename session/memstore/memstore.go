package memstore

import (
	"context"
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
// and not shared between processes. Expired records are dropped when
// read and when room is needed; when full, the records closest to their
// expiry (among a sample) make room. Safe for concurrent use.
type Store struct {
	o     Options
	mu    sync.Mutex
	m     map[string]entry
	bytes int
}

type entry struct {
	rec    []byte
	expiry int64 // unix nanos; 0: never
}

var _ session.Store = (*Store)(nil)

// New returns an empty store.
func New(o Options) *Store {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return &Store{o: o, m: map[string]entry{}}
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
	if e.expiry != 0 && now >= e.expiry {
		st.remove(token, e)
		return "", nil, false, nil
	}
	return token, e.rec, true, nil
}

// Save stores a copy of rec under id until expiry.
func (st *Store) Save(_ context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	e := entry{rec: append([]byte(nil), rec...)}
	if !expiry.IsZero() {
		e.expiry = expiry.UnixNano()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if old, ok := st.m[id]; ok {
		st.remove(id, old)
	}
	st.makeRoom(len(rec))
	st.m[id] = e
	st.bytes += len(e.rec)
	return id, nil
}

// Delete removes id.
func (st *Store) Delete(_ context.Context, id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e, ok := st.m[id]; ok {
		st.remove(id, e)
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

func (st *Store) remove(id string, e entry) {
	delete(st.m, id)
	st.bytes -= len(e.rec)
}

// makeRoom runs with st.mu held.
func (st *Store) makeRoom(n int) {
	full := func() bool { return len(st.m) >= st.o.MaxEntries || st.bytes+n > st.o.MaxBytes }
	if !full() {
		return
	}
	now := time.Now().UnixNano()
	for id, e := range st.m {
		if e.expiry != 0 && now >= e.expiry {
			st.remove(id, e)
		}
	}
	for full() && len(st.m) > 0 {
		// Sampled eviction (as Redis does): of up to 8 arbitrary records,
		// drop the one that expires first.
		var victim string
		var ve entry
		i := 0
		for id, e := range st.m {
			if i == 0 || e.expiry != 0 && (ve.expiry == 0 || e.expiry < ve.expiry) {
				victim, ve = id, e
			}
			if i++; i == 8 {
				break
			}
		}
		st.remove(victim, ve)
	}
}
