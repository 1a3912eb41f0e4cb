package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxKeys bounds the keys one key set may hold (and so the keys a token
// without a "kid" is tried against).
const maxKeys = 100

// keyFits says whether key can verify alg: an RSA key RS/PS, an ECDSA key
// ES on its own curve, an Ed25519 key EdDSA.
func keyFits(key any, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve.Params().BitSize == 256
		case jose.ES384:
			return k.Curve.Params().BitSize == 384
		case jose.ES512:
			return k.Curve.Params().BitSize == 521
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// parsePEMKeys reads the public keys of a PEM file.
func parsePEMKeys(b []byte) ([]any, error) {
	var keys []any
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		var (
			k   any
			err error
		)
		switch blk.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case "RSA PUBLIC KEY":
			k, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			c, err = x509.ParseCertificate(blk.Bytes)
			if err == nil {
				k = c.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q: give public keys (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks), never a private key", blk.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", blk.Type, err)
		}
		switch k.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("PEM block %q: unsupported key type %T", blk.Type, k)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key in the file")
	}
	return keys, nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// remoteKeys is the key set of jwks_url (or of the issuer's discovery
// document), fetched when first needed and again on an unknown "kid", at
// most once per minRefresh.
type remoteKeys struct {
	issuer     string
	jwksURL    string // "" until discovery found it, when only issuer is set
	client     *http.Client
	minRefresh time.Duration
	insecure   bool
	now        func() time.Time

	set     atomic.Pointer[keySet] // read without a lock by every request
	fetchMu sync.Mutex             // held during a fetch: one at a time
	last    time.Time              // the last fetch attempt (under fetchMu)
	lastErr error                  // its error, repeated until the next attempt
}

type keySet struct {
	byKID map[string][]jose.JSONWebKey
	all   []jose.JSONWebKey
}

// keys returns the keys that may verify a token signed with alg under
// kid: those of that kid (any kid when kid is ""), fitting alg. When none
// fits (an unknown kid, a rotated key) it fetches the set again if the
// last fetch is at least minRefresh old; a request for a known kid never
// waits for a fetch. An error means no key set could be fetched at all.
func (rk *remoteKeys) keys(ctx context.Context, kid string, alg jose.SignatureAlgorithm) ([]any, error) {
	if set := rk.set.Load(); set != nil {
		if ks := set.find(kid, alg); len(ks) > 0 {
			return ks, nil
		}
	}
	rk.fetchMu.Lock()
	defer rk.fetchMu.Unlock()
	if set := rk.set.Load(); set != nil { // fetched while this request waited?
		if ks := set.find(kid, alg); len(ks) > 0 {
			return ks, nil
		}
	}
	if rk.last.IsZero() || rk.now().Sub(rk.last) >= rk.minRefresh {
		rk.last = rk.now()
		set, err := rk.fetch(ctx)
		rk.lastErr = err
		if err != nil {
			return nil, err
		}
		rk.set.Store(set)
	}
	set := rk.set.Load()
	if set == nil {
		return nil, rk.lastErr
	}
	return set.find(kid, alg), nil
}

// check fetches the key set now, whatever minRefresh says, and keeps it
// when the fetch succeeds; a failure leaves the set and the refresh
// schedule of the requests as they were.
func (rk *remoteKeys) check(ctx context.Context) error {
	rk.fetchMu.Lock()
	defer rk.fetchMu.Unlock()
	set, err := rk.fetch(ctx)
	if err != nil {
		return err
	}
	rk.set.Store(set)
	rk.last, rk.lastErr = rk.now(), nil
	return nil
}

func (s *keySet) find(kid string, alg jose.SignatureAlgorithm) []any {
	cands := s.all
	if kid != "" {
		cands = s.byKID[kid]
	}
	var out []any
	for _, k := range cands {
		if (k.Algorithm == "" || k.Algorithm == string(alg)) && keyFits(k.Key, alg) {
			out = append(out, k.Key)
		}
	}
	return out
}

// fetch discovers the JWKS URL (once) and reads the key set.
func (rk *remoteKeys) fetch(ctx context.Context) (*keySet, error) {
	if rk.jwksURL == "" {
		u, err := rk.discover(ctx)
		if err != nil {
			return nil, err
		}
		rk.jwksURL = u
	}
	var jwks jose.JSONWebKeySet
	if err := getJSON(ctx, rk.client, rk.jwksURL, &jwks); err != nil {
		return nil, fmt.Errorf("jwt: key set %s: %w", rk.jwksURL, err)
	}
	set := &keySet{byKID: map[string][]jose.JSONWebKey{}}
	for _, k := range jwks.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		k = k.Public() // a provider publishing a private key: keep its public half only
		if !k.Valid() || !k.IsPublic() {
			continue // "oct" (a secret) or broken: never a verification key
		}
		if len(set.all) == maxKeys {
			break
		}
		set.all = append(set.all, k)
		set.byKID[k.KeyID] = append(set.byKID[k.KeyID], k)
	}
	if len(set.all) == 0 {
		return nil, fmt.Errorf("jwt: key set %s holds no public signing key", rk.jwksURL)
	}
	return set, nil
}

// discover reads the issuer's discovery document for its jwks_uri.
func (rk *remoteKeys) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(rk.issuer, "/") + "/.well-known/openid-configuration"
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, rk.client, u, &doc); err != nil {
		return "", fmt.Errorf("jwt: discovery %s: %w", u, err)
	}
	if doc.Issuer != rk.issuer {
		return "", fmt.Errorf("jwt: discovery %s: issuer is %q, not the configured %q", u, doc.Issuer, rk.issuer)
	}
	if err := checkURL(doc.JWKSURI, rk.insecure); err != nil {
		return "", fmt.Errorf("jwt: discovery %s: jwks_uri: %w", u, err)
	}
	return doc.JWKSURI, nil
}

// getJSON GETs u and decodes its JSON body (at most maxDocumentBytes) into v.
func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeBody(resp, v)
}

func decodeBody(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxDocumentBytes {
		return fmt.Errorf("body over %d bytes", maxDocumentBytes)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}
