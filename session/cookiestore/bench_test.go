package cookiestore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
)

func BenchmarkLoad(b *testing.B) {
	st, _ := cookiestore.New(cookiestore.Options{Secret: secret1})
	tok, _ := st.Save(context.Background(), session.NewID(), make([]byte, 80), time.Now().Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok, _ := st.Load(context.Background(), tok); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkDeleteFull: a logout with MaxRevoked (100000) live revocations
// held.
func BenchmarkDeleteFull(b *testing.B) {
	ctx := context.Background()
	st, _ := cookiestore.New(cookiestore.Options{Secret: secret1})
	for range cookiestore.DefaultMaxRevoked {
		_ = st.Delete(ctx, session.NewID())
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = session.NewID()
	}
	b.ResetTimer()
	for i := range b.N {
		_ = st.Delete(ctx, ids[i])
	}
}
