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
