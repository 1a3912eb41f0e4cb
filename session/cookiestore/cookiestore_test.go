package cookiestore_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
	"github.com/gowho/gowho/session/sessiontest"
)

const (
	secret1 = "0123456789abcdef0123456789abcdef-one"
	secret2 = "0123456789abcdef0123456789abcdef-two"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		st, err := cookiestore.New(cookiestore.Options{Secret: secret1})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func TestRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old, _ := cookiestore.New(cookiestore.Options{Secret: secret1})
	tok, err := old.Save(ctx, session.NewID(), []byte("rec"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := cookiestore.New(cookiestore.Options{Secret: secret2, OldSecrets: []string{secret1}})
	if _, rec, found, _ := rotated.Load(ctx, tok); !found || string(rec) != "rec" {
		t.Fatalf("old cookie after rotation: found=%v rec=%q", found, rec)
	}
	tok2, _ := rotated.Save(ctx, session.NewID(), []byte("new"), time.Now().Add(time.Hour))
	if _, _, found, _ := old.Load(ctx, tok2); found {
		t.Fatal("a cookie sealed with the new secret opens with the old one alone")
	}
	dropped, _ := cookiestore.New(cookiestore.Options{Secret: secret2})
	if _, _, found, _ := dropped.Load(ctx, tok); found {
		t.Fatal("old cookie opens after its secret was dropped")
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    cookiestore.Options
	}{
		{"empty", cookiestore.Options{}},
		{"short", cookiestore.Options{Secret: "s3cr3tX"}},
		{"short old", cookiestore.Options{Secret: secret1, OldSecrets: []string{"x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cookiestore.New(tc.o)
			if err == nil || !strings.Contains(err.Error(), "too short") {
				t.Fatalf("New = %v; want a too-short error", err)
			}
			if tc.o.Secret != "" && strings.Contains(err.Error(), tc.o.Secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestRevoked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := cookiestore.New(cookiestore.Options{Secret: secret1, MaxRevoked: 2})
	id := session.NewID()
	tok, _ := st.Save(ctx, id, []byte("r"), time.Now().Add(time.Hour))
	_ = st.Delete(ctx, id)
	if _, _, found, _ := st.Load(ctx, tok); found {
		t.Fatal("deleted session still opens in this process")
	}
	for range 5 { // bounded: never more than MaxRevoked remembered
		_ = st.Delete(ctx, session.NewID())
	}
	if ring, ids := st.Revocations(); ring > 2 || ids > 2 {
		t.Fatalf("%d revocations, %d ids held; want at most 2", ring, ids)
	}
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestRevocationSurvivesFlood: a revoked cookie stays refused until its own
// deadline however many logins and logouts follow, with the memory held
// bounded (security item 8); a cookie sealed after the flood opens.
func TestRevocationSurvivesFlood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name       string
		maxRevoked int
		logouts    int
	}{
		{"below the bound", 100, 50},
		{"at the bound", 100, 100},
		{"far past the bound", 100, 5000},
		{"bound of one", 1, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{time.Unix(1_000_000, 0)}
			st, _ := cookiestore.New(cookiestore.Options{Secret: secret1, MaxRevoked: tc.maxRevoked,
				RevokeFor: 2 * time.Hour, Now: c.now})
			victim := session.NewID()
			stolen, _ := st.Save(ctx, victim, []byte("r"), c.t.Add(2*time.Hour))
			c.t = c.t.Add(time.Second)
			_ = st.Delete(ctx, victim)
			for range tc.logouts { // logins and logouts by someone else
				c.t = c.t.Add(time.Millisecond)
				id := session.NewID()
				if _, err := st.Save(ctx, id, []byte("r"), c.t.Add(2*time.Hour)); err != nil {
					t.Fatal(err)
				}
				_ = st.Delete(ctx, id)
				if _, _, found, _ := st.Load(ctx, stolen); found {
					t.Fatal("the revoked cookie opens again after a run of logouts")
				}
			}
			if ring, ids := st.Revocations(); ring > tc.maxRevoked || ids > tc.maxRevoked {
				t.Fatalf("%d revocations, %d ids held; want at most %d", ring, ids, tc.maxRevoked)
			}
			c.t = c.t.Add(time.Millisecond)
			fresh, _ := st.Save(ctx, session.NewID(), []byte("r"), c.t.Add(2*time.Hour))
			if _, _, found, _ := st.Load(ctx, fresh); !found {
				t.Fatal("a cookie sealed after the flood does not open")
			}
			c.t = c.t.Add(2 * time.Hour) // the stolen cookie's own deadline
			if _, _, found, _ := st.Load(ctx, stolen); found {
				t.Fatal("the revoked cookie opens after its deadline")
			}
		})
	}
}

// TestRevocationsExpire: revocations are dropped once their cookies have
// expired, so logouts spread over time never reach the bound and never
// refuse live cookies of other sessions.
func TestRevocationsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{time.Unix(1_000_000, 0)}
	st, _ := cookiestore.New(cookiestore.Options{Secret: secret1, MaxRevoked: 10, RevokeFor: time.Hour, Now: c.now})
	other, _ := st.Save(ctx, session.NewID(), []byte("r"), c.t.Add(24*time.Hour))
	for range 100 { // ten times the bound, one logout every 10 minutes
		c.t = c.t.Add(10 * time.Minute)
		_ = st.Delete(ctx, session.NewID())
	}
	if ring, ids := st.Revocations(); ring > 7 || ids > 7 {
		t.Fatalf("%d revocations, %d ids held after their cookies expired; want at most 7", ring, ids)
	}
	if _, _, found, _ := st.Load(ctx, other); !found {
		t.Fatal("a live cookie of another session was refused although no live revocation was dropped")
	}
}

// TestRevokeForever: with RevokeFor negative (sessions without deadlines)
// a revocation never expires; past the bound it becomes the cut-off.
func TestRevokeForever(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{time.Unix(1_000_000, 0)}
	st, _ := cookiestore.New(cookiestore.Options{Secret: secret1, MaxRevoked: 3, RevokeFor: -1, Now: c.now})
	victim := session.NewID()
	stolen, _ := st.Save(ctx, victim, []byte("r"), time.Time{})
	_ = st.Delete(ctx, victim)
	for range 10 {
		c.t = c.t.Add(365 * 24 * time.Hour)
		_ = st.Delete(ctx, session.NewID())
	}
	if _, _, found, _ := st.Load(ctx, stolen); found {
		t.Fatal("a revoked cookie without a deadline opens again")
	}
}

// TestV1Cookies: cookies sealed before the sealing time was added still
// open, and are refused by a cut-off (their sealing time is unknown).
func TestV1Cookies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := cookiestore.New(cookiestore.Options{Secret: secret1, MaxRevoked: 1})
	var raw [32]byte
	raw[0] = 7
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	tok := base64.RawURLEncoding.EncodeToString(st.SealV1(raw, time.Now().Add(time.Hour).UnixNano(), []byte("old")))
	gotID, rec, found, _ := st.Load(ctx, tok)
	if !found || gotID != id || string(rec) != "old" {
		t.Fatalf("v1 cookie: found %v id %q rec %q", found, gotID, rec)
	}
	_ = st.Delete(ctx, session.NewID())
	_ = st.Delete(ctx, session.NewID()) // past the bound: a cut-off
	if _, _, found, _ := st.Load(ctx, tok); found {
		t.Fatal("a v1 cookie opens after a cut-off")
	}
}
