package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gowho/gowho/internal/respwriter"
	"github.com/gowho/gowho/who"
)

// storeError returns the *StoreError of a failed store operation op and
// reports it to the chain's observers (who.Report, Plugin "session",
// Reason op: the metrics count it), unless the request was cancelled,
// which is no store failure.
func storeError(ctx context.Context, op string, err error) *StoreError {
	if !Cancelled(ctx, err) {
		who.Report(ctx, who.Event{Kind: who.EventStoreError, Plugin: "session", Reason: op, Err: err})
	}
	return &StoreError{Op: op, Err: err}
}

// ErrNoMiddleware is returned by the methods of a nil *Session: the
// request did not go through a Manager (or a different one).
var ErrNoMiddleware = errors.New("session: the request did not go through the session middleware")

// ErrCommitted is returned by a change made after the response started:
// the session was already saved, so the change would be lost.
var ErrCommitted = errors.New("session: the response has started; the change cannot be saved")

// A Session is one request's session. Get it with From or Manager.From.
// It is loaded from the store on first use and saved once, when the
// response starts, if it changed. Its methods are safe for concurrent use
// by the request's goroutines; a nil *Session returns ErrNoMiddleware (or
// zero values).
type Session struct {
	mu sync.Mutex
	m  *Manager
	r  *http.Request

	loaded    bool
	err       error  // load failure, sticky
	token     string // the cookie value presented
	stale     bool   // a cookie was presented but named no live record
	id        string // "" until minted
	rc        *record
	isNew     bool
	dirty     bool
	touched   bool
	destroyed bool
	deleteIDs []string // records to delete at commit (renewed or destroyed)
	committed bool
	outer     *Session // the session of an enclosing manager, for Manager.From

	// Allocated with the session, to save allocations per request.
	rcv record
	wv  respwriter.Writer // what the handler writes to
}

// Load loads the session now, if it is not loaded yet. Every other method
// loads it on first use; Load is for handlers that want the error. The
// error is ErrNoMiddleware or a *StoreError.
func (s *Session) Load() error {
	if s == nil {
		return ErrNoMiddleware
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

// Err returns the load error, if any (see Load).
func (s *Session) Err() error { return s.Load() }

// load runs with s.mu held.
func (s *Session) load() error {
	if s.loaded {
		return s.err
	}
	s.loaded = true
	m := s.m
	now := m.o.Now()
	if v := cookieValue(s.r, m.o.CookieName); v != "" {
		s.token = v
		id, b, found, err := m.o.Store.Load(s.r.Context(), v)
		if err != nil {
			s.err = storeError(s.r.Context(), "load", err)
			s.fresh(now)
			return s.err
		}
		if found {
			rc := &s.rcv
			err := rc.decodeLazy(b)
			switch {
			case err != nil:
				m.log.Warn("session: unreadable record ignored", "err", err)
			case rc.expired(now):
			default:
				s.id, s.rc = id, rc
				if m.o.IdleTimeout > 0 && now.Sub(rc.accessed) >= m.o.IdleTimeout/16 {
					s.touched = true
				}
				return nil
			}
		}
		s.stale = true // never adopt: a fresh session gets a fresh id
	}
	s.fresh(now)
	return nil
}

// gone makes s a new, empty session after its record was found destroyed
// at commit; the cookie is expired. It runs with s.mu held.
func (s *Session) gone() {
	s.destroyed = true
	s.dirty, s.touched = false, false
	s.fresh(s.m.o.Now())
}

func (s *Session) fresh(now time.Time) {
	s.id = ""
	s.isNew = true
	s.rcv = record{created: now, data: map[string]any{}}
	s.rc = &s.rcv
	if s.m.o.AbsoluteTimeout > 0 {
		s.rc.absEnd = now.Add(s.m.o.AbsoluteTimeout)
	}
}

// change runs f on the loaded session and marks it dirty.
func (s *Session) change(f func()) error {
	if s == nil {
		return ErrNoMiddleware
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	if s.committed {
		return ErrCommitted
	}
	f()
	s.dirty = true // OR: a later no-op never clears it
	return nil
}

// read runs f on the loaded session; it returns false when it could not
// be loaded.
func (s *Session) read(f func()) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return false
	}
	f()
	return true
}

// Get returns the value under key, or nil. Values come back as the codec
// decodes them: strings, int, uint64 (above MaxInt64), float64, bool,
// []byte, []string, map[string]string, []any and map[string]any.
func (s *Session) Get(key string) any {
	var v any
	s.read(func() { v = s.rc.dataMap()[key] })
	return v
}

// GetString returns the value under key when it is a string, else "".
func (s *Session) GetString(key string) string {
	v, _ := s.Get(key).(string)
	return v
}

// Lookup returns the value under key and whether it is present.
func (s *Session) Lookup(key string) (any, bool) {
	var v any
	var ok bool
	s.read(func() { v, ok = s.rc.dataMap()[key] })
	return v, ok
}

// LookupIn returns the value under sub in the map stored under key (a
// map[string]any or map[string]string), and whether it is there: what
// Lookup(key) and an index give, but reading a loaded record decodes that
// one value, not the rest of the session (a plugin that keeps tokens and
// claims under one key reads the claims alone). Treat the value as read
// only: it may be a copy, so a change to it is not saved; use Set.
func (s *Session) LookupIn(key, sub string) (any, bool) {
	var v any
	var ok bool
	s.read(func() { v, ok = s.rc.lookupIn(key, sub) })
	return v, ok
}

// Set stores v under key. v must be session data: strings, numbers,
// bools, nil, []byte, and lists and string-keyed maps of those
// (ErrUnsupportedType otherwise). Maps and slices are stored as they are
// when the response starts.
func (s *Session) Set(key string, v any) error {
	if err := checkValue(v); err != nil {
		return fmt.Errorf("session: set %q: %w", key, err)
	}
	return s.change(func() { s.rc.dataMap()[key] = v })
}

// Delete removes key.
func (s *Session) Delete(key string) error {
	return s.change(func() { delete(s.rc.dataMap(), key) })
}

// Clear removes every key and flash; the session id stays.
func (s *Session) Clear() error {
	return s.change(func() {
		clear(s.rc.dataMap())
		s.rc.flashes = nil
	})
}

// Keys returns the keys, sorted.
func (s *Session) Keys() []string {
	var keys []string
	s.read(func() { keys = slices.Sorted(maps.Keys(s.rc.dataMap())) })
	return keys
}

// Len returns the number of keys.
func (s *Session) Len() int {
	n := 0
	s.read(func() { n = len(s.rc.dataMap()) })
	return n
}

// Flash adds a one-time message, read (and removed) by the next Flashes.
func (s *Session) Flash(category, msg string) error {
	return s.change(func() { s.rc.flashes = append(s.rc.flashes, Flash{category, msg}) })
}

// Flashes returns the pending flash messages, oldest first, and removes
// them: each is read once.
func (s *Session) Flashes() []Flash {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil || len(s.rc.flashes) == 0 {
		return nil // nothing to remove: the session stays clean
	}
	out := s.rc.flashes
	if !s.committed {
		s.rc.flashes = nil
		s.dirty = true
	}
	return out
}

// RenewID gives the session a new id, keeping its data; the old record is
// deleted when the response starts. Call it when the privilege level
// changes (login), against fixation.
func (s *Session) RenewID() error {
	return s.change(func() {
		if !s.isNew && s.id != "" {
			s.deleteIDs = append(s.deleteIDs, s.id)
		}
		s.id = NewID()
		s.isNew = true
	})
}

// Destroy deletes the session: the record is deleted and the cookie
// expired when the response starts. Later changes in the same request
// start a new session with a new id.
func (s *Session) Destroy() error {
	if s == nil {
		return ErrNoMiddleware
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	if s.committed {
		return ErrCommitted
	}
	if !s.isNew && s.id != "" {
		s.deleteIDs = append(s.deleteIDs, s.id)
	}
	s.destroyed = true
	s.dirty, s.touched = false, false
	s.fresh(s.m.o.Now())
	return nil
}

// ID returns the session id, minting one for a new session ("" when the
// session cannot be loaded).
func (s *Session) ID() string {
	var id string
	s.read(func() {
		if s.id == "" {
			s.id = NewID()
		}
		id = s.id
	})
	return id
}

// IsNew reports whether the session was created by this request (no live
// record was presented, or the id was renewed).
func (s *Session) IsNew() bool {
	n := false
	s.read(func() { n = s.isNew })
	return n
}

// Created returns when the session was created.
func (s *Session) Created() time.Time {
	var t time.Time
	s.read(func() { t = s.rc.created })
	return t
}

// Accessed returns when the record was last saved (zero for a new
// session).
func (s *Session) Accessed() time.Time {
	var t time.Time
	s.read(func() { t = s.rc.accessed })
	return t
}

// Deadline returns when the session ends unless used again: the earlier
// of its idle and absolute deadlines (zero: never).
func (s *Session) Deadline() time.Time {
	var t time.Time
	s.read(func() {
		rc := *s.rc
		if s.m.o.IdleTimeout > 0 {
			rc.idleEnd = s.m.o.Now().Add(s.m.o.IdleTimeout)
		}
		t = rc.expiry()
	})
	return t
}

// commit saves the session if it needs saving and adds its cookie to h;
// cookie reports whether it added a Set-Cookie. It runs once, when the
// response starts.
func (s *Session) commit(h http.Header) (cookie bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return false, nil
	}
	s.committed = true
	if !s.loaded {
		return false, nil
	}
	if s.err != nil {
		return false, s.err
	}
	m := s.m
	ctx := s.r.Context()
	save := s.dirty || !s.isNew && (s.touched || m.o.Rolling)
	if save {
		now := m.o.Now()
		s.rc.accessed = now
		if m.o.IdleTimeout > 0 {
			s.rc.idleEnd = now.Add(m.o.IdleTimeout)
		}
		b, err := s.rc.encode(make([]byte, 0, 128))
		if err != nil {
			return false, err
		}
		if s.id == "" {
			s.id = NewID()
		}
		expiry := s.rc.expiry()
		token, err := m.save(ctx, s.id, b, expiry, s.rc, !s.isNew)
		switch {
		case err != nil && !s.isNew && errors.Is(err, ErrGone):
			// Another request destroyed the session after this one
			// loaded it (a logout, DestroyUser): it stays destroyed.
			// The cookie is expired below, and what is left of this
			// request sees a new, empty session.
			m.log.Debug("session: save dropped: the session ended while the request ran", "path", s.r.URL.EscapedPath())
			s.gone()
			save = false
		case err != nil:
			return false, storeError(ctx, "save", err)
		}
		if save && (token != s.token || m.o.Persistent) {
			c := m.cookie(s.r, token, expiry, 0)
			v := c.String()
			if len(v) > m.o.MaxCookieSize {
				return false, fmt.Errorf("%w: %d bytes, max_cookie_size is %d: store less in the session or use a server-side store",
					ErrTooLarge, len(v), m.o.MaxCookieSize)
			}
			h.Add("Set-Cookie", v)
			cookie = true
		}
	}
	for _, id := range s.deleteIDs {
		if err := m.o.Store.Delete(ctx, id); err != nil {
			return false, storeError(ctx, "delete", err)
		}
	}
	if !save && (s.destroyed || s.stale) && s.token != "" {
		h.Add("Set-Cookie", m.cookie(s.r, "", time.Time{}, -1).String())
		cookie = true
	}
	return cookie, nil
}

// cookieValue returns the value of the request's first cookie called
// name, or "", without parsing the other cookies (what r.Cookie does
// costs an allocation per cookie).
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}
