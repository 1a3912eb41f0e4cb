package oidc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxFlows bounds each in-memory set the plugin keeps (used states, seen
// logout token ids, revocations, the session index).
const maxFlows = 100_000

// maxFlowCookie bounds the flow cookie value the plugin decodes.
const maxFlowCookie = 8 << 10

// stateLen is the length of a state: 32 random bytes, base64url.
const stateLen = 43

// flow is what the flow cookie keeps between the redirect to the provider
// and the callback.
type flow struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	CameFrom string `json:"c,omitempty"`
	Redirect string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds
}

// newState returns a fresh random state (or nonce).
func newState() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validState reports whether s has the shape newState gives: anything
// else never reaches a cookie name.
func validState(s string) bool {
	if len(s) != stateLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// flowMAC is the HMAC of a flow cookie's payload, bound to its state (so a
// cookie cannot be moved to another flow) and to this plugin.
func (p *Plugin) flowMAC(state string, payload []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	io.WriteString(m, "oidc-flow\x00"+p.o.Issuer+"\x00"+p.o.ClientID+"\x00"+state+"\x00")
	m.Write(payload)
	return m.Sum(nil)
}

// encodeFlow returns the signed cookie value of f for state.
func (p *Plugin) encodeFlow(state string, f flow) string {
	payload, _ := json.Marshal(f)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(p.flowMAC(state, payload))
}

var (
	errFlowMalformed = errors.New("malformed flow cookie")
	errFlowSignature = errors.New("flow cookie signature mismatch")
	errFlowExpired   = errors.New("flow expired")
)

// decodeFlow checks and decodes a flow cookie value for state.
func (p *Plugin) decodeFlow(state, v string, now time.Time) (flow, error) {
	var f flow
	if len(v) > maxFlowCookie {
		return f, errFlowMalformed
	}
	body, sig, ok := strings.Cut(v, ".")
	if !ok {
		return f, errFlowMalformed
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return f, errFlowMalformed
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return f, errFlowMalformed
	}
	if !hmac.Equal(mac, p.flowMAC(state, payload)) {
		return f, errFlowSignature
	}
	if err := json.Unmarshal(payload, &f); err != nil || f.Nonce == "" || f.Verifier == "" || f.Redirect == "" {
		return flow{}, errFlowMalformed
	}
	if now.Unix() >= f.Expires {
		return flow{}, errFlowExpired
	}
	return f, nil
}

// flowCookie is the flow cookie for state with value v, living maxAge
// seconds (-1: deleted), sent only to the callback path.
func (p *Plugin) flowCookie(r *http.Request, state, v string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     p.o.CookiePrefix + state,
		Value:    v,
		Path:     p.o.CallbackPath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   p.o.Secure.For(r),
		// Lax: the provider's redirect back is a top-level GET, which
		// carries the cookie; a cross-site POST or subrequest does not.
		SameSite: http.SameSiteLaxMode,
	}
}

// expiringSet is a bounded set of strings, each with a time it is kept
// until and a value; safe for concurrent use. Full, it drops the entries
// that expired, then the one that expires first.
type expiringSet struct {
	mu  sync.Mutex
	max int
	m   map[string]setEntry
}

type setEntry struct {
	until time.Time
	val   time.Time
}

func newExpiringSet(max int) *expiringSet {
	return &expiringSet{max: max, m: map[string]setEntry{}}
}

// add adds k until until with value val; it reports whether k was absent
// (or expired).
func (s *expiringSet) add(k string, val, until, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && now.Before(e.until) {
		return false
	}
	if len(s.m) >= s.max {
		s.pruneLocked(now)
	}
	s.m[k] = setEntry{until: until, val: val}
	return true
}

// get returns k's value when k is present and not expired.
func (s *expiringSet) get(k string, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok || !now.Before(e.until) {
		return time.Time{}, false
	}
	return e.val, true
}

func (s *expiringSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *expiringSet) pruneLocked(now time.Time) {
	var firstK string
	var first time.Time
	for k, e := range s.m {
		if !now.Before(e.until) {
			delete(s.m, k)
			continue
		}
		if firstK == "" || e.until.Before(first) {
			firstK, first = k, e.until
		}
	}
	if len(s.m) < s.max {
		return
	}
	if firstK != "" {
		delete(s.m, firstK)
	}
	// Still full of live entries (a flood): drop a sixteenth at once, in
	// the map's random order, so the next adds do not each scan the set.
	n := s.max / 16
	for k := range s.m {
		if n <= 0 {
			break
		}
		delete(s.m, k)
		n--
	}
}
