package authtkt

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// FuzzParse feeds arbitrary cookie values to the parser and the
// identifier: no panic, and whatever verifies re-encodes to a ticket that
// reads back the same. Whatever Identify accepts is written again by
// Remember for a login of that identity (a new ticket) with the same
// userid, tokens, user data and lifetime, unless a field holds a byte a
// quoted cookie cannot carry (issue 12 item 4: such tickets stopped
// sliding without a word).
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
	// Python's quoted-string escapes, and fields only a quoted cookie
	// carries.
	f.Add(`"58dca821c651234bfb2d969b4654dc4d6553f100alice!admin\054editor!k=v"`, "md5")
	for _, tc := range []struct{ tokens, ud string }{
		{"a b,c", ""}, {"", "x y!z"}, {"admin", "x!y"}, {"gowho.max_age=60,admin", "k=v"},
		{"", `say "hi" now`}, {`a\b`, "\t"}, {"", "caf\xc3\xa9"},
	} {
		f.Add(pyQuote(rawTicket("alice", tc.tokens, tc.ud, t1700)), "md5")
		f.Add(`"`+rawTicket("alice", tc.tokens, tc.ud, t1700)+`"`, "md5")
	}
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
		id, _ := p.Identify(r)
		if id != nil && !validUserID(id.Str(KeyTicketUserID)) {
			t.Fatalf("identified a userid with CR, LF, NUL or invalid UTF-8: %q", id.Str(KeyTicketUserID))
		}
		if n, size := p.cache.stats(); n > cacheMaxEntries || size > cacheMaxBytes {
			t.Fatalf("cache over its bounds: %d entries, %d bytes", n, size)
		}
		_ = p.Remember(r, map[string]any{"repoze.who.userid": value})
		if id != nil {
			checkRewrite(t, p, r, id)
		}
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

// checkRewrite: a login of the identity Identify gave for r gets a ticket
// that Identify reads back as the same identity (timestamp aside), unless
// its tokens or user data hold a byte a quoted cookie cannot carry.
func checkRewrite(t *testing.T, p *Plugin, r *http.Request, id who.Identity) {
	t.Helper()
	login := id.Clone()
	delete(login, KeyTimestamp)
	login[who.KeyUserID] = id.Str(KeyTicketUserID)
	tokens := id[who.KeyTokens].([]string)
	ud := id.Str(who.KeyUserData)
	writable := strings.IndexFunc(ud, func(c rune) bool { return c > 0x7f || !quotedSafe(byte(c)) }) < 0
	for _, tok := range tokens {
		writable = writable && tok != "" && strings.IndexFunc(tok, func(c rune) bool { return c > 0x7f || !quotedSafe(byte(c)) || c == '!' }) < 0
	}
	h := p.Remember(r, login)
	if h == nil {
		if writable {
			t.Fatalf("identity %v was not written again", id)
		}
		return
	}
	v, _, _ := strings.Cut(h.Get("Set-Cookie"), ";")
	back, _ := p.Identify(req("h", "", v))
	if back == nil {
		t.Fatalf("%s (from identity %v) not read back", v, id)
	}
	delete(back, KeyTimestamp)
	want := id.Clone()
	delete(want, KeyTimestamp)
	if !slices.Equal(back[who.KeyTokens].([]string), tokens) || back.Str(who.KeyUserData) != ud ||
		back.Str(KeyTicketUserID) != id.Str(KeyTicketUserID) || back[who.KeyMaxAge] != id[who.KeyMaxAge] {
		t.Fatalf("%s reads back as %v, want %v", v, back, want)
	}
}
