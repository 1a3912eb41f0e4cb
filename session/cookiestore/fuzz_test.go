package cookiestore_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
)

// FuzzLoad feeds arbitrary cookie values to the decoder: it must never
// panic and never open what it did not seal; what it sealed opens intact.
func FuzzLoad(f *testing.F) {
	st, err := cookiestore.New(cookiestore.Options{Secret: secret1})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	tok, _ := st.Save(ctx, session.NewID(), []byte("seed record"), time.Now().Add(time.Hour))
	// Seeds near a valid cookie (a valid one would open in any process
	// with this secret, so it is not a seed: nothing the fuzzer makes
	// may open).
	last := "A"
	if tok[len(tok)-1] == 'A' {
		last = "B"
	}
	f.Add(tok[:len(tok)-1]+last, []byte("rec"))
	f.Add(tok[:20], []byte("rec"))
	f.Add("", []byte{})
	f.Add("AAAA", []byte{0})
	f.Add(tok[:len(tok)-3]+"===", []byte("x"))
	f.Fuzz(func(t *testing.T, token string, rec []byte) {
		if _, _, found, err := st.Load(ctx, token); err != nil || found {
			t.Fatalf("Load(%q) = found %v, err %v", token, found, err)
		}
		id := session.NewID()
		sealed, err := st.Save(ctx, id, rec, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		gotID, got, found, err := st.Load(ctx, sealed)
		if err != nil || !found || gotID != id || !bytes.Equal(got, rec) {
			t.Fatalf("round trip failed: %v %v", found, err)
		}
	})
}
