package plugintest

import (
	"strings"
	"sync"
	"testing"
)

func TestLogBufferConcurrent(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = l.Write([]byte("x")) })
	}
	wg.Wait()
	if l.String() != strings.Repeat("x", 8) {
		t.Errorf("got %q", l.String())
	}
}

func TestDecodeTOML(t *testing.T) {
	var v struct {
		Realm string `toml:"realm"`
	}
	if err := DecodeTOML(`realm = "x"`)(&v); err != nil || v.Realm != "x" {
		t.Errorf("decode: %v %q", err, v.Realm)
	}
	if err := DecodeTOML(`relam = "x"`)(&v); err == nil || !strings.Contains(err.Error(), "relam") {
		t.Errorf("unknown key: %v", err)
	}
	if err := DecodeTOML(`realm = `)(&v); err == nil {
		t.Error("bad TOML accepted")
	}
}
