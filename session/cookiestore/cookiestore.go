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
	// process, so its cookies no longer open here (default 24h: set it to
	// the manager's absolute timeout). Other processes do not know: use a
	// server-side store when logout must hold everywhere.
	RevokeFor time.Duration
	// MaxRevoked bounds the ids remembered (default 100000).
	MaxRevoked int
}

// Store keeps the whole session in the cookie, sealed with AES-256-GCM
// (random 96-bit nonce; the key is HKDF-SHA256 of the secret). It needs
// no server. Safe for concurrent use.
type Store struct {
	keys []key // keys[0] seals
	o    Options

	mu      sync.Mutex
	revoked map[string]int64 // id -> unix nanos until which it is refused
}

type key struct {
	id   [4]byte // SHA-256(key)[:4]: which key sealed a cookie
	aead cipher.AEAD
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
	if o.RevokeFor <= 0 {
		o.RevokeFor = DefaultRevokeFor
	}
	if o.MaxRevoked <= 0 {
		o.MaxRevoked = DefaultMaxRevoked
	}
	st := &Store{o: o, revoked: map[string]int64{}}
	for _, s := range append([]string{o.Secret}, o.OldSecrets...) {
		k, err := newKey(s)
		if err != nil {
			return nil, err
		}
		st.keys = append(st.keys, k)
	}
	return st, nil
}

func newKey(secret string) (key, error) {
	raw, err := hkdf.Key(sha256.New, []byte(secret), nil, "gowho session cookie v1", 32)
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

// Layout of a cookie: base64url(kid[4] nonce[12] sealed(expiry[8] id[32] rec)).
const (
	kidLen   = 4
	nonceLen = 12
	idRawLen = 32
	headLen  = 8 + idRawLen
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
	copy(plain[8:], idRaw[:])
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
	minLen := base64.RawURLEncoding.EncodedLen(kidLen + nonceLen + headLen + 16)
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
	if err != nil || len(plain) < headLen {
		return "", nil, false, nil
	}
	exp := int64(binary.BigEndian.Uint64(plain))
	now := time.Now().UnixNano()
	if exp != 0 && now >= exp {
		return "", nil, false, nil
	}
	var idText [session.IDLen]byte
	base64.RawURLEncoding.Encode(idText[:], plain[8:headLen])
	id := string(idText[:])
	if st.isRevoked(id, now) {
		return "", nil, false, nil
	}
	return id, plain[headLen:], true, nil
}

// Delete refuses session id's cookies in this process for RevokeFor.
func (st *Store) Delete(_ context.Context, id string) error {
	now := time.Now().UnixNano()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.revoked) >= st.o.MaxRevoked {
		for k, until := range st.revoked {
			if until <= now {
				delete(st.revoked, k)
			}
		}
		for k := range st.revoked { // still full: forget arbitrary ones
			if len(st.revoked) < st.o.MaxRevoked {
				break
			}
			delete(st.revoked, k)
		}
	}
	st.revoked[id] = now + int64(st.o.RevokeFor)
	return nil
}

func (st *Store) isRevoked(id string, now int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.revoked) == 0 {
		return false
	}
	until, ok := st.revoked[id]
	return ok && now < until
}

// strictB64 rejects non-zero padding bits, so a cookie has exactly one
// spelling and any changed character is a changed cookie.
var strictB64 = base64.RawURLEncoding.Strict()
