package config_test

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/gowho/gowho/config"
	_ "github.com/gowho/gowho/plugins/all"
)

// largeFile generates a who.toml of n basicauth plugins, each listed under
// [identifiers] and [challengers], whose realms are padded to realmLen
// bytes: the files of issue 12's load benchmark, made here so that no big
// file is committed.
func largeFile(n, realmLen int) []byte {
	var b strings.Builder
	b.WriteString("[general]\nrequest_classifier = \"default\"\n\n")
	for i := range n {
		realm := fmt.Sprintf("realm %d ", i)
		if pad := realmLen - len(realm); pad > 0 {
			realm += strings.Repeat("x", pad)
		}
		fmt.Fprintf(&b, "[plugin.basic%d]\nuse = \"basicauth\"\nrealm = %q\n\n", i, realm)
	}
	for _, stage := range []string{"identifiers", "challengers"} {
		fmt.Fprintf(&b, "[%s]\nplugins = [\n", stage)
		for i := range n {
			fmt.Fprintf(&b, "  \"basic%d;browser\",\n", i)
		}
		b.WriteString("]\n")
	}
	return []byte(b.String())
}

// BenchmarkLoad parses and builds large files (issue 12: loading was
// quadratic in the number of keys). Run
// `go test -run '^$' -bench Load -count 6 ./config` and compare with
// benchstat; docs/performance.md has the figures.
func BenchmarkLoad(b *testing.B) {
	for _, bc := range []struct {
		name        string
		n, realmLen int
	}{
		{"plugins=1000", 1000, 0},
		{"plugins=8000", 8000, 0},
		{"size=10MB", 1000, 10 << 10},
	} {
		data := largeFile(bc.n, bc.realmLen)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			opts := config.Options{Logger: slog.New(slog.DiscardHandler)}
			for b.Loop() {
				c, err := config.Parse("who.toml", data, opts)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// TestLoadLarge checks that the benchmark's files load, so that a change
// that breaks them fails in `go test` and not only in a benchmark run.
func TestLoadLarge(t *testing.T) {
	data := largeFile(200, 100)
	c, err := config.Parse("who.toml", data, config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := len(c.Plugins()); got != 200 {
		t.Errorf("%d plugins, want 200", got)
	}
	if got := len(c.Stages()[0].Entries); got != 200 {
		t.Errorf("%d identifiers, want 200", got)
	}
}

// TestLoadLinear fails when loading grows quadratically with the number of
// plugins, as it did when every key's line cost a copy and a split of the
// whole document (issue 12: 8,000 plugins took 65 s). It compares the
// bytes allocated, which unlike time do not depend on the machine's load:
// eight times the plugins must allocate well under 8² = 64 times as much
// (linear is about 8; the quadratic loader allocated 59 times as much).
func TestLoadLinear(t *testing.T) {
	opts := config.Options{Logger: slog.New(slog.DiscardHandler)}
	allocated := func(n int) uint64 {
		data := largeFile(n, 0)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := config.Parse("who.toml", data, opts)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(500), allocated(4000)
	ratio := float64(large) / float64(small)
	t.Logf("500 plugins allocate %d bytes, 4000 %d: %.1f times as much", small, large, ratio)
	if ratio > 20 {
		t.Errorf("500 plugins allocate %d bytes, 4000 allocate %d: %.0f times as much for 8 times the plugins (quadratic)", small, large, ratio)
	}
}
