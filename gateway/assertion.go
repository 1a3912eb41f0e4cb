package gateway

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
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
