package gateway

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gowho/gowho/internal/lru"
)

// A Signer signs identity assertions: short-lived JWTs (EdDSA, Ed25519)
// an upstream verifies with the keys Signer publishes (JWKS). It is safe
// for concurrent use.
type Signer struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	signer  jose.Signer
	current signingKey
	keys    []signingKey // published: the current key last
	jwks    []byte

	cache assertionCache
}

type signingKey struct {
	kid  string
	priv ed25519.PrivateKey
}

// NewSigner returns a Signer with keys, of which the last signs and all
// are published; with none, it generates one. ttl is the assertions'
// lifetime; now is the clock (nil: time.Now).
func NewSigner(keys []ed25519.PrivateKey, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if now == nil {
		now = time.Now
	}
	if ttl <= 0 {
		ttl = DefaultAssertionTTL
	}
	s := &Signer{ttl: ttl, now: now}
	if len(keys) == 0 {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("gateway: generating the assertion key: %w", err)
		}
		keys = []ed25519.PrivateKey{priv}
	}
	for _, k := range keys {
		if err := s.add(k); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Rotate makes key the signing key; the previous signing key stays
// published, so assertions it signed still verify until they expire, and
// any older key is dropped.
func (s *Signer) Rotate(key ed25519.PrivateKey) error {
	s.mu.Lock()
	prev := s.current
	s.mu.Unlock()
	return s.set([]signingKey{prev}, key)
}

func (s *Signer) add(key ed25519.PrivateKey) error {
	s.mu.RLock()
	keys := slices.Clone(s.keys)
	s.mu.RUnlock()
	return s.set(keys, key)
}

// set publishes keep and key, key signing.
func (s *Signer) set(keep []signingKey, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return errors.New("gateway: an assertion key must be an Ed25519 private key")
	}
	kid, err := thumbprint(key.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	cur := signingKey{kid: kid, priv: key}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return fmt.Errorf("gateway: assertion signer: %w", err)
	}
	keys := slices.DeleteFunc(slices.Clone(keep), func(k signingKey) bool { return k.kid == kid || k.priv == nil })
	keys = append(keys, cur)
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	doc, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("gateway: key set: %w", err)
	}
	s.mu.Lock()
	s.signer, s.current, s.keys, s.jwks = sig, cur, keys, doc
	s.mu.Unlock()
	return nil
}

func thumbprint(pub ed25519.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("gateway: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// JWKS returns the published key set (RFC 7517), as served at
// Prefix + "jwks.json".
func (s *Signer) JWKS() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.jwks
}

// Sign returns an assertion for userid with audience aud and the extra
// claims (the passed identity keys), valid from now for the Signer's
// lifetime.
func (s *Signer) Sign(userid, aud string, claims map[string]any) (string, error) {
	now := s.now()
	std := jwt.Claims{
		Subject:  userid,
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(s.ttl)),
	}
	if aud != "" {
		std.Audience = jwt.Audience{aud}
	}
	s.mu.RLock()
	sig := s.signer
	s.mu.RUnlock()
	b := jwt.Signed(sig)
	if len(claims) > 0 {
		b = b.Claims(claims)
	}
	tok, err := b.Claims(std).Serialize()
	if err != nil {
		return "", fmt.Errorf("gateway: signing the assertion: %w", err)
	}
	return tok, nil
}

// LoadKeys reads Ed25519 private keys (PEM, PKCS #8 "PRIVATE KEY") from
// path: a file holding one or more, or a directory whose *.pem files are
// read in name order. The last key is the one to sign with.
func LoadKeys(path string) ([]ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if fi.IsDir() {
		files, err = filepath.Glob(filepath.Join(path, "*.pem"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
	}
	var keys []ed25519.PrivateKey
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for n := 1; ; n++ {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type != "PRIVATE KEY" {
				continue
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: key %d: %w", f, n, err)
			}
			ek, ok := k.(ed25519.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%s: key %d is a %T, not an Ed25519 key", f, n, k)
			}
			keys = append(keys, ek)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no Ed25519 PRIVATE KEY (PKCS #8 PEM) found; make one with `openssl genpkey -algorithm ed25519`", path)
	}
	return keys, nil
}

// DefaultAssertionCacheSize bounds the assertions a Signer keeps for
// SignCached.
const DefaultAssertionCacheSize = 4096

// SignCached is Sign with a cache: the assertion signed for the same
// userid, audience and claims by the current key is given again while
// more than half its lifetime is left, so an upstream always gets one
// valid for at least ttl/2, and the signing (most of a forward-auth
// answer's cost) happens about twice per lifetime and user instead of
// per request. Entries are keyed by a SHA-256 of userid, aud and the
// claims, never shared between users, audiences or identities; a
// rotation re-signs (the key's id is checked); at most
// DefaultAssertionCacheSize are kept, the least recently used dropped.
func (s *Signer) SignCached(userid, aud string, claims map[string]any) (string, error) {
	key, ok := assertionKey(userid, aud, claims)
	if !ok {
		return s.Sign(userid, aud, claims)
	}
	now := s.now()
	s.mu.RLock()
	kid := s.current.kid
	s.mu.RUnlock()
	if tok, ok := s.cache.get(key, kid, now); ok {
		return tok, nil
	}
	tok, err := s.Sign(userid, aud, claims)
	if err != nil {
		return "", err
	}
	// Sign read the clock again: the entry's issue time is a little
	// earlier than the token's, so it is re-signed a little early.
	s.cache.put(key, cachedAssertion{tok: tok, kid: kid, reuseUntil: now.Add(s.ttl / 2)}, DefaultAssertionCacheSize)
	return tok, nil
}

type cachedAssertion struct {
	tok        string
	kid        string
	reuseUntil time.Time
}

// assertionCache is the bounded LRU of signed assertions (internal/lru),
// made on first use.
type assertionCache struct {
	mu sync.Mutex
	c  *lru.Cache[[sha256.Size]byte, cachedAssertion]
}

func (c *assertionCache) get(key [sha256.Size]byte, kid string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return "", false
	}
	v, ok := c.c.Get(key)
	if !ok {
		return "", false
	}
	if v.kid != kid || !now.Before(v.reuseUntil) {
		c.c.Remove(key)
		return "", false
	}
	return v.tok, true
}

func (c *assertionCache) put(key [sha256.Size]byte, v cachedAssertion, max int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		c.c = lru.New[[sha256.Size]byte, cachedAssertion](max)
	}
	c.c.Put(key, v)
}

func (c *assertionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return 0
	}
	return c.c.Len()
}

// assertionKey is the cache key of an assertion: a SHA-256 of the
// userid, the audience and the claims, each length-prefixed and typed,
// the claims in key order. ok is false for a claim value of a type it
// does not spell (such an assertion is signed every time).
func assertionKey(userid, aud string, claims map[string]any) (sum [sha256.Size]byte, ok bool) {
	var b strings.Builder
	str := func(tag byte, v string) {
		b.WriteByte(tag)
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	str('u', userid)
	str('a', aud)
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		str('k', k)
		switch v := claims[k].(type) {
		case string:
			str('s', v)
		case []string:
			b.WriteString("l" + strconv.Itoa(len(v)))
			for _, e := range v {
				str('s', e)
			}
		case []any:
			b.WriteString("L" + strconv.Itoa(len(v)))
			for _, e := range v {
				es, isStr := e.(string)
				if !isStr {
					return sum, false
				}
				str('s', es)
			}
		case bool:
			str('b', strconv.FormatBool(v))
		case int:
			str('i', strconv.Itoa(v))
		case int64:
			str('I', strconv.FormatInt(v, 10))
		case float64:
			str('f', strconv.FormatFloat(v, 'g', -1, 64))
		default:
			return sum, false
		}
	}
	return sha256.Sum256([]byte(b.String())), true
}
