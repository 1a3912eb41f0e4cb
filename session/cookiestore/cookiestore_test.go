package cookiestore_test

import (
	"context"
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
}
