package authtkt

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary cookie values to the parser and the
// identifier: no panic, and whatever verifies re-encodes to a ticket that
// reads back the same.
func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.want, v.algo)
		f.Add(`"`+v.want+`"`, v.algo)
		f.Add(strings.ReplaceAll(v.want, "!", "%21"), v.algo)
	}
	f.Add(apacheTicket("s33kr1t", "alice", "", "k=v", t1700, "md5"), "md5")
	f.Add("", "")
	f.Add("%", "md5")
	f.Add(`"""`, "sha1")
	p := mustNew(f, Options{})
	f.Fuzz(func(t *testing.T, value, algo string) {
		if digestSize(algo) == 0 {
			algo = "md5"
		}
		tk, err := Parse("s33kr1t", value, nil, algo)
		if err == nil {
			v, err := tk.Cookie("s33kr1t", algo)
			if err != nil {
				return // e.g. a userid Python's quote never writes
			}
			back, err := Parse("s33kr1t", v, nil, algo)
			if err != nil || back.UserID != tk.UserID || !slices.Equal(back.Tokens, tk.Tokens) || back.UserData != tk.UserData {
				t.Fatalf("round trip of %q: %+v, %v", value, back, err)
			}
		}
		_, _ = ParseEncoding("s33kr1t", value, net.IPv4(1, 2, 3, 4), algo, EncodingModAuthTkt)
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "auth_tkt="+value)
		if id, _ := p.Identify(r); id != nil && !validUserID(id.Str(KeyTicketUserID)) {
			t.Fatalf("identified a userid with CR, LF, NUL or invalid UTF-8: %q", id.Str(KeyTicketUserID))
		}
		if n, size := p.cache.stats(); n > cacheMaxEntries || size > cacheMaxBytes {
			t.Fatalf("cache over its bounds: %d entries, %d bytes", n, size)
		}
		_ = p.Remember(r, map[string]any{"repoze.who.userid": value})
	})
}

// FuzzRoundTrip: any ticket Cookie accepts parses back to itself.
func FuzzRoundTrip(f *testing.F) {
	f.Add("alice", "admin,dev", "k=v", int64(1700000000), false)
	f.Add("a!b c", "", "", int64(0), false)
	f.Add("alice@x", "a", "userid_type=int", int64(1<<31), true)
	f.Fuzz(func(t *testing.T, uid, tokens, ud string, ts int64, modTkt bool) {
		enc := EncodingRepoze
		if modTkt {
			enc = EncodingModAuthTkt
		}
		var toks []string
		if tokens != "" {
			toks = strings.Split(tokens, ",")
		}
		tk := Ticket{UserID: uid, Tokens: toks, UserData: ud, Time: time.Unix(int64(uint32(ts)), 0), Encoding: enc}
		v, err := tk.Cookie("k", "sha256")
		if err != nil {
			return
		}
		back, err := ParseEncoding("k", v, nil, "sha256", enc)
		if err != nil || back.UserID != uid || !slices.Equal(back.Tokens, toks) || back.UserData != ud || !back.Time.Equal(tk.Time) {
			t.Fatalf("%+v -> %q -> %+v, %v", tk, v, back, err)
		}
	})
}
