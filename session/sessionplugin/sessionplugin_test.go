package sessionplugin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gowho/gowho/session/sessionplugin"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

func TestNew(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sess")
	tests := []struct {
		name string
		o    sessionplugin.Options
	}{
		{"cookie", sessionplugin.Options{Secret: "0123456789abcdef0123456789abcdef"}},
		{"memory", sessionplugin.Options{Store: "memory", MaxEntries: 10}},
		{"file", sessionplugin.Options{Store: "file", DataDir: dir}},
		{"memcached", sessionplugin.Options{Store: "memcached", MemcachedURLs: []string{"127.0.0.1:1"}}},
		{"redis", sessionplugin.Options{Store: "redis", RedisURL: "redis://127.0.0.1:1/0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := sessionplugin.New(tc.o)
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
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data_dir not made with mode 0700: %v", err)
	}
}

// TestDataDirPath: in who.toml, data_dir follows who.PluginSpec.Path, "~/"
// included.
func TestDataDirPath(t *testing.T) {
	home, confDir := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	f, _, err := who.DefaultRegistry.Factory("session")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dataDir, want string }{
		{"sess", filepath.Join(confDir, "sess")},
		{"./a/../rel", filepath.Join(confDir, "rel")},
		{"~/sess", filepath.Join(home, "sess")},
		{filepath.Join(home, "abs"), filepath.Join(home, "abs")},
	} {
		spec := whotest.Spec(t, "store = \"file\"\ndata_dir = \""+tc.dataDir+"\"")
		spec.Dir = confDir
		v, err := f(spec)
		if err != nil {
			t.Fatalf("data_dir %q: %v", tc.dataDir, err)
		}
		_ = v.(*sessionplugin.Plugin).Close()
		if _, err := os.Stat(tc.want); err != nil {
			t.Errorf("data_dir %q: %s not made: %v", tc.dataDir, tc.want, err)
		}
	}
}
