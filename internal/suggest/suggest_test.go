package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	ldap := []string{"base_dn", "bind_dn", "filter", "url"}
	tests := []struct {
		name    string
		options []string
		want    string
	}{
		{"bsae_dn", ldap, "base_dn"}, // a swapped pair is one edit
		{"base_dn", ldap, ""},        // the name itself is no hint
		{"fitler", ldap, "filter"},
		{"zzzzzz", ldap, ""},
		{"uri", ldap, "url"},
		{"anything", nil, ""},
		{"", ldap, ""},                           // "url" is 3 edits away, over the bound of 2
		{"realm", []string{"ream"}, "ream"},      // 1 edit, bound 5/3+1 = 2
		{"abcdef", []string{"abxyef"}, "abxyef"}, // 2 edits, bound 3
		{"abcdef", []string{"axyzwf"}, ""},       // 4 edits, bound 3
	}
	for _, tt := range tests {
		if got := Closest(tt.name, tt.options); got != tt.want {
			t.Errorf("Closest(%q, %q) = %q, want %q", tt.name, tt.options, got, tt.want)
		}
	}
}
