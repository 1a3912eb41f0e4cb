package who_test

import (
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want time.Duration
		ok   bool
	}{
		{"5m", 5 * time.Minute, true},
		{"300", 300 * time.Second, true},
		{int64(300), 300 * time.Second, true},
		{1.5, 1500 * time.Millisecond, true},
		{"5 minutes", 0, false},
		{true, 0, false},
	}
	for _, tc := range tests {
		var d who.Duration
		err := d.UnmarshalTOML(tc.in)
		if (err == nil) != tc.ok || d.D() != tc.want {
			t.Errorf("UnmarshalTOML(%v) = %v, %v; want %v ok=%v", tc.in, d, err, tc.want, tc.ok)
		}
	}
}

func TestWords(t *testing.T) {
	t.Parallel()
	for _, in := range []any{"a b", "a, b", "a,b", " a\tb ", []any{"a", "b"}} {
		var w who.Words
		if err := w.UnmarshalTOML(in); err != nil || len(w) != 2 || w[0] != "a" || w[1] != "b" {
			t.Errorf("UnmarshalTOML(%#v) = %v, %v", in, w, err)
		}
	}
	var w who.Words
	if err := w.UnmarshalTOML([]any{"a", int64(1)}); err == nil {
		t.Error("a number in the list was accepted")
	}
	if err := w.UnmarshalTOML(int64(1)); err == nil {
		t.Error("a number was accepted")
	}
}
