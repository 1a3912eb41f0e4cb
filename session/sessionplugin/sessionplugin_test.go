package sessionplugin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gowho/gowho/session/sessionplugin"
	"github.com/gowho/gowho/who"
)

func TestNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		o    sessionplugin.Options
	}{
		{"cookie", sessionplugin.Options{Secret: "0123456789abcdef0123456789abcdef"}},
		{"memory", sessionplugin.Options{Store: "memory", MaxEntries: 10}},
		{"file relative", sessionplugin.Options{Store: "file", DataDir: "sess"}},
		{"memcached", sessionplugin.Options{Store: "memcached", MemcachedURLs: []string{"127.0.0.1:1"}}},
		{"redis", sessionplugin.Options{Store: "redis", RedisURL: "redis://127.0.0.1:1/0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := sessionplugin.New(tc.o, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			var _ who.OuterMiddleware = p
			if p.SessionManager() == nil {
				t.Fatal("no manager")
			}
		})
	}
	if fi, err := os.Stat(filepath.Join(dir, "sess")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data_dir not made relative to the config dir with mode 0700: %v", err)
	}
}
