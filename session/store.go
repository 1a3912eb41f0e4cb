package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// A Store keeps session records. The manager encodes records itself; a
// store only keeps bytes under an id until a time.
//
// "No" is a value: Load reports found == false, with a nil error, when
// there is no record for token, when it expired, or when token is
// malformed or was tampered with. An error means the backend failed (a
// server down, a disk full); the manager then answers 503.
//
// A server-side store uses the session id itself as the cookie value
// (token == id). A client-side store (cookiestore) seals the record into
// the token. Every method is called concurrently.
type Store interface {
	// Load returns the session id and record the cookie value token names.
	Load(ctx context.Context, token string) (id string, rec []byte, found bool, err error)
	// Save stores rec as session id until expiry, replacing any record of
	// that id, and returns the cookie value that names it.
	Save(ctx context.Context, id string, rec []byte, expiry time.Time) (token string, err error)
	// Delete removes session id; a missing record is not an error.
	Delete(ctx context.Context, id string) error
}

// Cancelled reports whether err is ctx's own cancellation (the client went
// away, or the server gave up on the request) rather than a backend
// failure: the manager and the plugins log it at debug, not as an outage,
// and a store does not count it toward its back-off.
func Cancelled(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && ctx.Err() != nil
}

// SaveInfo tells a SaveInfoStore what the manager knows about the record
// it saves.
type SaveInfo struct {
	// Authenticated is true when the session holds a logged-in user: a
	// value under the key "repoze.who.userid" (who.KeyUserID), at the top
	// level or in a map at the top level (where plugins/sessionid keeps
	// it).
	Authenticated bool
	// UserID is that userid ("" for an anonymous session). A
	// UserIndexStore indexes the session under it, for
	// Manager.DestroyUser.
	UserID string
	// Existing is true when the record was loaded from the store by this
	// request (not a new session, not a new id from RenewID): the store
	// must then write it only if it still holds a record of id, checked
	// and written in one step, and otherwise store nothing and return an
	// error wrapping ErrGone. So a session that another request destroyed
	// (Session.Destroy, Manager.DestroyUser) between this request's load
	// and its save stays destroyed. A store that does not implement
	// SaveInfoStore cannot be told, and its Save writes the record back.
	Existing bool
}

// ErrGone is returned (wrapped) by SaveInfoStore.SaveInfo when
// SaveInfo.Existing is set and the store no longer holds a record of the
// id: it was deleted by another request (Session.Destroy, a logout,
// Manager.DestroyUser), expired, or evicted. Nothing was stored. The
// manager then drops the save and expires the cookie: it is not a store
// failure.
var ErrGone = errors.New("session: the session ended while the request ran")

// A SaveInfoStore is a Store that wants to know more about the records it
// saves, such as memstore, which evicts anonymous sessions before
// authenticated ones. The manager calls SaveInfo instead of Save when the
// store implements it; a store without it gets Save, which cannot honour
// SaveInfo.Existing (a session destroyed while a request that loaded it
// runs is written back by that request's save). memstore, filestore,
// redisstore and memcachestore implement it; cookiestore need not (the
// cookie is the record, and Delete refuses the id whatever seals it).
type SaveInfoStore interface {
	Store
	// SaveInfo is Save with what the manager knows about the record. With
	// info.Existing it writes only over a record of id that is still
	// there, and returns an error wrapping ErrGone otherwise.
	SaveInfo(ctx context.Context, id string, rec []byte, expiry time.Time, info SaveInfo) (token string, err error)
}

// A UserIndexStore is a SaveInfoStore that keeps, for each userid, the
// ids of the sessions saved for it (SaveInfo.UserID), so that
// Manager.DestroyUser can end every session of a user ("log out
// everywhere"). memstore, filestore and redisstore implement it.
//
// The index may lag behind: it may still list a session that was
// deleted, expired, or saved later for another user (the manager loads
// each one and checks its userid before it deletes it). It must never miss
// a session: SaveInfo indexes the id before it stores the record, and an
// entry goes only when the session it names has expired. A store prunes
// expired entries itself, so the index does not grow for ever.
type UserIndexStore interface {
	SaveInfoStore
	// UserSessions returns the ids indexed under userid.
	UserSessions(ctx context.Context, userid string) ([]string, error)
}

// ErrNotSupported is returned (wrapped) by Manager.DestroyUser when the
// store keeps no per-user index: cookiestore (the sessions live in the
// browsers) and memcachestore (memcached may evict an index entry
// silently, which would leave a session alive after "log out
// everywhere"). Test for it with errors.Is.
var ErrNotSupported = errors.New("session: not supported by this store")

// ErrTooLarge is returned (wrapped) when a session cookie would exceed the
// manager's max_cookie_size: browsers drop such cookies silently.
var ErrTooLarge = errors.New("session: cookie too large")

// IDLen is the length of a session id: 32 random bytes (256 bits),
// base64url without padding.
const IDLen = 43

// NewID returns a fresh 256-bit random session id.
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an id NewID made. Stores use
// it to refuse hostile keys (path traversal, memcached control bytes)
// before they reach the backend.
func ValidID(s string) bool {
	if len(s) != IDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if idDigit(s[i]) < 0 {
			return false
		}
	}
	// The last character carries 2 padding bits that must be zero, so
	// every id has one spelling (what base64's Strict decoding checks,
	// without decoding: this runs on every request with a cookie).
	return idDigit(s[IDLen-1])&3 == 0
}

// idDigit is c's value in the URL-safe base64 alphabet, -1 for a byte
// outside it.
func idDigit(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// The expiry envelope, for server-side stores: the expiry travels with the
// record, so a backend that keeps a record a little longer than asked
// (memcached rounds to seconds) still reports it expired. It is framing,
// not protection: the record inside is neither encrypted nor signed.

// WrapExpiry returns rec with expiry (zero: never) in front, as 8
// big-endian bytes of Unix nanoseconds, for a server-side store's value.
func WrapExpiry(rec []byte, expiry time.Time) []byte {
	out := make([]byte, 8, 8+len(rec))
	exp := int64(1<<63 - 1) // zero expiry: never
	if !expiry.IsZero() {
		exp = expiry.UnixNano()
	}
	binary.BigEndian.PutUint64(out, uint64(exp))
	return append(out, rec...)
}

// UnwrapExpiry returns the record WrapExpiry wrapped in b; ok is false
// when b is too short to hold an expiry, or when the record expired at now.
func UnwrapExpiry(b []byte, now time.Time) (rec []byte, ok bool) {
	if len(b) < 8 {
		return nil, false
	}
	if now.UnixNano() >= int64(binary.BigEndian.Uint64(b)) {
		return nil, false
	}
	return b[8:], true
}
