package convert

import (
	"testing"

	"github.com/gowho/gowho/plugins/authtkt"
)

// TestAuthTktSecretBounds: convert keeps copies of authtkt's secret
// lengths (so that it does not import plugins); they must stay the
// plugin's, or converted files would get allow_weak_secret wrongly.
func TestAuthTktSecretBounds(t *testing.T) {
	t.Parallel()
	if minTktSecret != authtkt.MinSecretBytes || goodTktSecret != authtkt.GoodSecretBytes {
		t.Errorf("convert's secret bounds %d/%d, authtkt's %d/%d", minTktSecret, goodTktSecret, authtkt.MinSecretBytes, authtkt.GoodSecretBytes)
	}
}
