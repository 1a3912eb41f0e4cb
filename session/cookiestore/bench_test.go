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
