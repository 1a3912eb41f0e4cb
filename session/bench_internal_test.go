package session

import (
	"testing"
	"time"
)

func BenchmarkDecodeRecord(b *testing.B) {
	rc := &record{created: time.Now(), accessed: time.Now(), idleEnd: time.Now(), absEnd: time.Now(),
		data: map[string]any{"repoze.who.tkt": map[string]any{"repoze.who.userid": "alice", "userdata": "x"}}}
	buf, _ := rc.encode(nil)
	b.ReportAllocs()
	for b.Loop() {
		var r record
		if err := r.decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeRecord(b *testing.B) {
	rc := &record{created: time.Now(), accessed: time.Now(), idleEnd: time.Now(), absEnd: time.Now(),
		data: map[string]any{"repoze.who.tkt": map[string]any{"repoze.who.userid": "alice", "userdata": "x"}, "cart": map[string]string{"a": "1", "b": "2"}}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rc.encode(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidID: the id check every request with a session cookie
// makes (twice with a server-side store).
func BenchmarkValidID(b *testing.B) {
	id := NewID()
	b.ReportAllocs()
	for b.Loop() {
		if !ValidID(id) {
			b.Fatal("a new id is not valid")
		}
	}
}
