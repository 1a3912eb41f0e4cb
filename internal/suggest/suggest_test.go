package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	opts := []string{"base_dn", "bind_dn", "filter", "url"}
	for in, want := range map[string]string{"bsae_dn": "base_dn", "base_dn": "", "fitler": "filter", "zzzzzz": "", "uri": "url"} {
		if got := Closest(in, opts); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
