package cookiestore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/gowho/gowho/session"
)

// MinSecretLen is the shortest secret accepted, in bytes.
const MinSecretLen = 32

// DefaultRevokeFor is the default of Options.RevokeFor.
const DefaultRevokeFor = 24 * time.Hour

// DefaultMaxRevoked is the default of Options.MaxRevoked.
const DefaultMaxRevoked = 100_000

// ErrShortSecret is returned (wrapped) by New for a secret shorter than
// MinSecretLen.
var ErrShortSecret = errors.New("cookiestore: secret too short")

// Options configure a Store.
type Options struct {
	// Secret seals new cookies (key secret, required, at least 32 bytes;
	// write `secret = "${WHO_SESSION_SECRET}"` to keep it out of the file).
	Secret string
	// OldSecrets still open cookies sealed with them (key old_secrets,
	// default none): rotate by moving Secret here and setting a new one.
	OldSecrets []string
	// RevokeFor is how long Delete remembers a destroyed session id in this
	// process, so its cookies no longer open here. It must be at least the
	// longest a cookie lives after it is sealed: the shorter of the
	// manager's idle and absolute timeouts (sessionplugin sets it so).
	// Default 24h (the default absolute timeout); negative: for ever, for
	// sessions without deadlines. Other processes do not know: use a
	// server-side store when logout must hold everywhere.
	RevokeFor time.Duration
	// MaxRevoked bounds the ids remembered (default 100000). When that
	// many live revocations are held, the oldest is not forgotten but
	// turned into a cut-off: every cookie sealed up to its Delete is
	// refused (the sessions it ends were sealed before a burst of
	// MaxRevoked logouts; their users log in again).
	MaxRevoked int
	// Now is the clock, for tests; nil: time.Now.
	Now func() time.Time
}

// Store keeps the whole session in the cookie, sealed with AES-256-GCM
// (random 96-bit nonce; the key is HKDF-SHA256 of the secret). It needs
// no server. Safe for concurrent use.
type Store struct {
	keys []key // keys[0] seals
	o    Options

	mu      sync.Mutex
	revoked map[string]int64 // id -> unix nanos until which it is refused
	ring    []revocation     // the revocations in the order made, oldest at head
	head, n int
	// cutoff refuses every cookie sealed at or before it (unix nanos;
	// 0: none): the revocations forgotten to keep MaxRevoked.
	cutoff int64
}

// revocation is one Delete, kept until its cookies have all expired.
type revocation struct {
	id    string
	at    int64 // when Delete ran
	until int64 // when its last cookie expires
}

type key struct {
	id   [4]byte // SHA-256(key)[:4]: which key sealed a cookie
	aead cipher.AEAD
	v1   bool // opens only: a cookie of the layout without a sealing time
}

var _ session.Store = (*Store)(nil)

// New returns a store sealing with o.Secret and opening with it and
// o.OldSecrets.
func New(o Options) (*Store, error) {
	if len(o.Secret) < MinSecretLen {
		return nil, fmt.Errorf("%w: secret has %d bytes, needs at least %d", ErrShortSecret, len(o.Secret), MinSecretLen)
	}
	for i, s := range o.OldSecrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("%w: old secret %d has %d bytes, needs at least %d", ErrShortSecret, i+1, len(s), MinSecretLen)
		}
	}
	if o.RevokeFor == 0 {
		o.RevokeFor = DefaultRevokeFor
	}
	if o.MaxRevoked <= 0 {
		o.MaxRevoked = DefaultMaxRevoked
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	st := &Store{o: o, revoked: map[string]int64{}}
	secrets := append([]string{o.Secret}, o.OldSecrets...)
	for _, info := range []string{infoV2, infoV1} { // v1 keys only open
		for _, s := range secrets {
			k, err := newKey(s, info)
			if err != nil {
				return nil, err
			}
			k.v1 = info == infoV1
			st.keys = append(st.keys, k)
		}
	}
	return st, nil
}

// HKDF infos: the cookie layout version is in the key, so a cookie of one
// layout never opens as the other.
const (
	infoV1 = "gowho session cookie v1" // expiry id rec
	infoV2 = "gowho session cookie v2" // expiry sealed-at id rec
)

func newKey(secret, info string) (key, error) {
	raw, err := hkdf.Key(sha256.New, []byte(secret), nil, info, 32)
	if err != nil {
		return key{}, fmt.Errorf("cookiestore: derive key: %w", err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, fmt.Errorf("cookiestore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, fmt.Errorf("cookiestore: %w", err)
	}
	var k key
	sum := sha256.Sum256(raw)
	copy(k.id[:], sum[:4])
	k.aead = aead
	return k, nil
}

// Layout of a cookie: base64url(kid[4] nonce[12] sealed(expiry[8]
// sealedAt[8] id[32] rec)); a v1 cookie has no sealedAt.
const (
	kidLen    = 4
	nonceLen  = 12
	idRawLen  = 32
	headLen   = 8 + 8 + idRawLen
	headLenV1 = 8 + idRawLen
)

// Save seals rec and returns it as the cookie value.
func (st *Store) Save(_ context.Context, id string, rec []byte, expiry time.Time) (string, error) {
	var idRaw [idRawLen]byte
	if n, err := base64.RawURLEncoding.Decode(idRaw[:], []byte(id)); err != nil || n != idRawLen {
		return "", fmt.Errorf("cookiestore: bad session id")
	}
	k := &st.keys[0]
	exp := int64(0)
	if !expiry.IsZero() {
		exp = expiry.UnixNano()
	}
	plain := make([]byte, headLen, headLen+len(rec))
	binary.BigEndian.PutUint64(plain, uint64(exp))
	binary.BigEndian.PutUint64(plain[8:], uint64(st.o.Now().UnixNano()))
	copy(plain[16:], idRaw[:])
	plain = append(plain, rec...)
	out := make([]byte, kidLen+nonceLen, kidLen+nonceLen+len(plain)+k.aead.Overhead())
	copy(out, k.id[:])
	nonce := out[kidLen : kidLen+nonceLen]
	randRead(nonce)
	out = k.aead.Seal(out, nonce, plain, out[:kidLen])
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Load opens token. A token that does not open with any key, is
// malformed, expired or revoked gives found == false.
func (st *Store) Load(_ context.Context, token string) (string, []byte, bool, error) {
	minLen := base64.RawURLEncoding.EncodedLen(kidLen + nonceLen + headLenV1 + 16)
	if len(token) < minLen || len(token) > 1<<16 {
		return "", nil, false, nil
	}
	b, err := strictB64.DecodeString(token) // one spelling per cookie: no ignored padding bits
	if err != nil {
		return "", nil, false, nil
	}
	var k *key
	for i := range st.keys {
		if [4]byte(b[:kidLen]) == st.keys[i].id {
			k = &st.keys[i]
			break
		}
	}
	if k == nil {
		return "", nil, false, nil
	}
	nonce := b[kidLen : kidLen+nonceLen]
	plain, err := k.aead.Open(b[kidLen+nonceLen:kidLen+nonceLen], nonce, b[kidLen+nonceLen:], b[:kidLen])
	hl := headLen
	if k.v1 {
		hl = headLenV1
	}
	if err != nil || len(plain) < hl {
		return "", nil, false, nil
	}
	exp := int64(binary.BigEndian.Uint64(plain))
	now := st.o.Now().UnixNano()
	if exp != 0 && now >= exp {
		return "", nil, false, nil
	}
	sealedAt := int64(0) // v1: unknown, so before any cut-off
	if !k.v1 {
		sealedAt = int64(binary.BigEndian.Uint64(plain[8:]))
	}
	var idText [session.IDLen]byte
	base64.RawURLEncoding.Encode(idText[:], plain[hl-idRawLen:hl])
	id := string(idText[:])
	if st.isRevoked(id, sealedAt, now) {
		return "", nil, false, nil
	}
	return id, plain[hl:], true, nil
}

// Delete refuses session id's cookies in this process until they have all
// expired (RevokeFor). It costs O(1): at most two expired revocations are
// dropped per call (one is added), and when MaxRevoked live ones are held,
// the oldest becomes the cut-off instead of being forgotten.
func (st *Store) Delete(_ context.Context, id string) error {
	now := st.o.Now().UnixNano()
	until := int64(math.MaxInt64)
	if st.o.RevokeFor > 0 {
		until = now + int64(st.o.RevokeFor)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for range 2 {
		if st.n == 0 || st.ring[st.head].until > now {
			break
		}
		st.pop()
	}
	if st.n == st.o.MaxRevoked {
		if r := st.pop(); r.until > now {
			// A live revocation: every cookie it refuses was sealed
			// before its Delete, so refusing all of those keeps it.
			st.cutoff = max(st.cutoff, r.at)
		}
	}
	st.push(revocation{id: id, at: now, until: until})
	st.revoked[id] = until
	return nil
}

// push appends r, growing the ring (doubling, up to MaxRevoked). It runs
// with st.mu held and st.n < MaxRevoked.
func (st *Store) push(r revocation) {
	if st.n == len(st.ring) {
		grown := make([]revocation, min(max(2*len(st.ring), 64), st.o.MaxRevoked))
		for i := range st.n {
			grown[i] = st.ring[(st.head+i)%len(st.ring)]
		}
		st.ring, st.head = grown, 0
	}
	st.ring[(st.head+st.n)%len(st.ring)] = r
	st.n++
}

// pop removes the oldest revocation, and its map entry unless the id was
// revoked again later. It runs with st.mu held and st.n > 0.
func (st *Store) pop() revocation {
	r := st.ring[st.head]
	st.ring[st.head] = revocation{}
	st.head = (st.head + 1) % len(st.ring)
	st.n--
	if st.revoked[r.id] == r.until {
		delete(st.revoked, r.id)
	}
	return r
}

func (st *Store) isRevoked(id string, sealedAt, now int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cutoff != 0 && sealedAt <= st.cutoff {
		return true
	}
	if len(st.revoked) == 0 {
		return false
	}
	until, ok := st.revoked[id]
	return ok && now < until
}

// strictB64 rejects non-zero padding bits, so a cookie has exactly one
// spelling and any changed character is a changed cookie.
var strictB64 = base64.RawURLEncoding.Strict()
