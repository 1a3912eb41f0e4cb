package authtkt

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gowho/gowho/who"
)

var (
	t1700 = time.Unix(1700000000, 0).UTC()
	fixed = func() time.Time { return t1700 }
	off   = false
)

// vectors are REPOZE-WHO.md §4.1's test vectors.
var vectors = []struct {
	name   string
	secret string
	uid    string
	ip     string
	tokens []string
	ud     string
	ts     int64
	algo   string
	want   string
}{
	{"1/md5", "s33kr1t", "alice", "0.0.0.0", nil, "", 1700000000, "md5", "aa9330a397e010c15f732ae177ed1f126553f100alice!"},
	{"2/md5", "s33kr1t", "bob smith", "192.168.1.10", []string{"admin", "editor"}, "userid_type:int", 1234567890, "md5", "468dc346e595482389d311870a97daba499602d2bob%20smith!admin,editor!userid_type:int"},
	{"3/md5", "secret", "42", "0.0.0.0", []string{"a"}, "userid_type=int&lang=fr", 1694498816, "md5", "b14c75739f1e4d066e54e3baf1cfeb596500000042!a!userid_type=int&lang=fr"},
	{"1/sha1", "s33kr1t", "alice", "0.0.0.0", nil, "", 1700000000, "sha1", "5f4838081a2cf0a83d00d7849f9827cfafac670f6553f100alice!"},
	{"1/sha256", "s33kr1t", "alice", "0.0.0.0", nil, "", 1700000000, "sha256", "898f22cf8f1dd1d3dec4667a88ffe0e5d4f22204a5d627d94137346216b8214b6553f100alice!"},
	{"1/sha512", "s33kr1t", "alice", "0.0.0.0", nil, "", 1700000000, "sha512", "ebae21e5cfd21a3555190df03e48ac06f2deb7ffb76bf8b2a2856e369c80944d261c686bee0703c67fcf0bde1390fe650920bbed5f94525d9760da8ff5864f1a6553f100alice!"},
	{"2/sha256", "s33kr1t", "bob smith", "192.168.1.10", []string{"admin", "editor"}, "userid_type:int", 1234567890, "sha256", "af193507bd00ebc2f542ad842bc2940f30ef737a4b7bdcb65a30b379bbb97d5d499602d2bob%20smith!admin,editor!userid_type:int"},
	{"3/sha256", "secret", "42", "0.0.0.0", []string{"a"}, "userid_type=int&lang=fr", 1694498816, "sha256", "3c40941b21ac1800db0ab4b81bd719fcebefa31a742cb77a1045507e4bbe83e96500000042!a!userid_type=int&lang=fr"},
	{"2/sha512", "s33kr1t", "bob smith", "192.168.1.10", []string{"admin", "editor"}, "userid_type:int", 1234567890, "sha512", "cd1ef8d9737d6e9ebb79e90c77c45455ff30b676b489e0b64ffbdf80b60d91e97d871a621284d9229bb091a87ecf0b3501f119a698e47b5005a1cc6862511654499602d2bob%20smith!admin,editor!userid_type:int"},
	{"3/sha512", "secret", "42", "0.0.0.0", []string{"a"}, "userid_type=int&lang=fr", 1694498816, "sha512", "fc29e6244fbccf6d54764c31dfdaabc910e3b59078188a969a424db9fdb38913e1b140359ca00b3c7e3d28cd59c5270b37a46cb3d1b4fe9909c80f38d8c3933d6500000042!a!userid_type=int&lang=fr"},
	// Plugin-level vectors (remember) at the ticket level.
	{"remember/2.2", "s33kr1t", "42", "0.0.0.0", []string{"admin", "dev"}, "userid_type:int", 1700000000, "md5", "d925364c2cce8f219c2129ac90f4a93c6553f10042!admin,dev!userid_type:int"},
	{"remember/HEAD", "s33kr1t", "42", "0.0.0.0", []string{"admin", "dev"}, "userid_type=int", 1700000000, "md5", "3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"},
	{"remember/include_ip", "s33kr1t", "alice", "10.0.0.7", nil, "", 1700000000, "md5", "0a6735e125e63fa9fc6c9e2e199b59e46553f100alice!"},
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			tk := Ticket{UserID: v.uid, Tokens: v.tokens, UserData: v.ud, Time: time.Unix(v.ts, 0), IP: net.ParseIP(v.ip)}
			got, err := tk.Cookie(v.secret, v.algo)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.want {
				t.Fatalf("Cookie:\n got %s\nwant %s", got, v.want)
			}
			back, err := Parse(v.secret, v.want, net.ParseIP(v.ip), v.algo)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tk.Time = tk.Time.UTC()
			tk.Digest = v.want[:digestSize(v.algo)]
			tk.Encoding = EncodingRepoze
			if diff := cmp.Diff(tk, back, cmp.Comparer(func(a, b net.IP) bool { return a.Equal(b) })); diff != "" {
				t.Fatalf("Parse (-want +got):\n%s", diff)
			}
			if _, err := Parse(v.secret+"x", v.want, net.ParseIP(v.ip), v.algo); !errors.Is(err, ErrBadDigest) {
				t.Fatalf("wrong secret: err = %v, want ErrBadDigest", err)
			}
		})
	}
}

// TestWorkedIntermediate checks §4.1's worked digest for vector 1.
func TestWorkedIntermediate(t *testing.T) {
	t.Parallel()
	msg, _ := hex.DecodeString("000000006553f1007333336b723174616c6963650000")
	var inner [32]byte
	hashHex(inner[:], "md5", msg)
	if string(inner[:]) != "532e0539693f12ac00ab71fe539a4a28" {
		t.Fatalf("inner = %s", inner)
	}
	if got := string(sum(nil, "md5", nil, 0x6553f100, "s33kr1t", "alice", "", "")); got != "aa9330a397e010c15f732ae177ed1f12" {
		t.Fatalf("outer = %s", got)
	}
}

// longSecret is a secret New accepts without a warning.
const longSecret = "0123456789abcdef0123456789abcdef"

// mustNew builds a plugin; the default secret is the vectors' "s33kr1t",
// and any secret under MinSecretBytes gets AllowWeakSecret (the vectors
// are repoze.who's, signed with short secrets). TestWeakSecret checks the
// refusal.
func mustNew(t testing.TB, o Options) *Plugin {
	t.Helper()
	if o.Secret == "" && o.SecretFile == "" {
		o.Secret = "s33kr1t"
	}
	if o.Secret != "" && len(o.Secret) < MinSecretBytes {
		o.AllowWeakSecret = true
	}
	for _, s := range o.OldSecrets {
		if len(s) < MinSecretBytes {
			o.AllowWeakSecret = true
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = fixed
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func req(host, remote string, cookies ...string) *http.Request {
	r := httptest.NewRequest("GET", "http://"+host+"/x", nil)
	r.Host = host
	if remote != "" {
		r.RemoteAddr = remote
	}
	for _, c := range cookies {
		r.Header.Add("Cookie", c)
	}
	return r
}

// repozeLike gives repoze.who's exact header shape.
func repozeLike(o Options) Options {
	o.RepozeDomains = true
	o.HTTPOnly = &off
	o.SameSite = SameSiteOff
	return o
}

func TestSetCookieBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		o      Options
		remote string
		id     who.Identity
		forget bool
		want   []string
	}{
		{
			name: "repoze HEAD remember int userid",
			o:    repozeLike(Options{}),
			id:   who.Identity{who.KeyUserID: "42", who.KeyTokens: []string{"admin", "dev"}, who.KeyUserData: "userid_type=int"},
			want: []string{
				`auth_tkt="3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"; Path=/`,
				`auth_tkt="3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"; Path=/; Domain=example.com`,
				`auth_tkt="3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"; Path=/; Domain=.example.com`,
			},
		},
		{
			name: "2.2 userdata is written as 3.x",
			o:    repozeLike(Options{}),
			id:   who.Identity{who.KeyUserID: "42", who.KeyTokens: []any{"admin", "dev"}, who.KeyUserData: "userid_type:int"},
			want: []string{
				`auth_tkt="3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"; Path=/`,
				`auth_tkt="3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"; Path=/; Domain=example.com`,
				`auth_tkt="3f5307eda66f83ec75521686caa006776553f10042!admin,dev!userid_type=int"; Path=/; Domain=.example.com`,
			},
		},
		{
			// repoze.who's bytes for alice with the token
			// gowho.max_age=3600, which carries the lifetime to reissues.
			name:   "repoze secure include_ip max_age",
			o:      Options{CookieName: "tkt", Secure: who.SecureAlways, IncludeIP: true, SameSite: SameSiteOff},
			remote: "10.0.0.7:5555",
			id:     who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: "3600"},
			want: []string{
				`tkt="3719daa35f918628b736375abec61f726553f100alice!gowho.max_age=3600!"; Path=/; Max-Age=3600; Expires=Tue, 14 Nov 2023 23:13:20 GMT; secure; HttpOnly`,
			},
		},
		{
			name: "a huge max_age is capped at 400 days (no Expires overflow)",
			o:    Options{CookieName: "tkt", SameSite: SameSiteOff},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: int64(math.MaxInt64)},
			want: []string{
				`tkt="` + mustCookie(Ticket{UserID: "alice", Tokens: []string{"gowho.max_age=34560000"}, Time: t1700}, "md5") + `"; Path=/; Max-Age=34560000; Expires=Wed, 18 Dec 2024 22:13:20 GMT; HttpOnly`,
			},
		},
		{
			name: "a huge float max_age is capped too",
			o:    Options{CookieName: "tkt", SameSite: SameSiteOff},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: 1e30},
			want: []string{
				`tkt="` + mustCookie(Ticket{UserID: "alice", Tokens: []string{"gowho.max_age=34560000"}, Time: t1700}, "md5") + `"; Path=/; Max-Age=34560000; Expires=Wed, 18 Dec 2024 22:13:20 GMT; HttpOnly`,
			},
		},
		{
			name: "a huge negative max_age is capped at -400 days (Expires in the past, no overflow)",
			o:    Options{CookieName: "tkt", SameSite: SameSiteOff},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: int64(math.MinInt64 + 1)},
			want: []string{
				`tkt="aa9330a397e010c15f732ae177ed1f126553f100alice!"; Path=/; Max-Age=-34560000; Expires=Mon, 10 Oct 2022 22:13:20 GMT; HttpOnly`,
			},
		},
		{
			name: "a huge negative max_age string is capped too",
			o:    Options{CookieName: "tkt", SameSite: SameSiteOff},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: "-9223372036854775807"},
			want: []string{
				`tkt="aa9330a397e010c15f732ae177ed1f126553f100alice!"; Path=/; Max-Age=-34560000; Expires=Mon, 10 Oct 2022 22:13:20 GMT; HttpOnly`,
			},
		},
		{
			name: "a huge negative float max_age is capped too",
			o:    Options{CookieName: "tkt", SameSite: SameSiteOff},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: -1e30},
			want: []string{
				`tkt="aa9330a397e010c15f732ae177ed1f126553f100alice!"; Path=/; Max-Age=-34560000; Expires=Mon, 10 Oct 2022 22:13:20 GMT; HttpOnly`,
			},
		},
		{
			name: "a NaN max_age expires now",
			o:    Options{CookieName: "tkt", SameSite: SameSiteOff},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyMaxAge: math.NaN()},
			want: []string{
				`tkt="aa9330a397e010c15f732ae177ed1f126553f100alice!"; Path=/; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT; HttpOnly`,
			},
		},
		{
			name:   "repoze forget",
			o:      repozeLike(Options{}),
			forget: true,
			want: []string{
				`auth_tkt="INVALID"; Path=/; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT`,
				`auth_tkt="INVALID"; Path=/; Domain=example.com; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT`,
				`auth_tkt="INVALID"; Path=/; Domain=.example.com; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT`,
			},
		},
		{
			name: "gowho defaults",
			o:    Options{},
			id:   who.Identity{who.KeyUserID: "alice"},
			want: []string{`auth_tkt="aa9330a397e010c15f732ae177ed1f126553f100alice!"; Path=/; HttpOnly; SameSite=Lax`},
		},
		{
			name:   "gowho defaults forget",
			o:      Options{},
			forget: true,
			want:   []string{`auth_tkt="INVALID"; Path=/; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT; HttpOnly; SameSite=Lax`},
		},
		{
			name: "domains, path, strict, map userdata",
			o:    Options{Domains: []string{"", "example.com"}, Path: "/app", SameSite: "strict", Secure: who.SecureAlways, DigestAlgo: "SHA256"},
			id:   who.Identity{who.KeyUserID: "alice", who.KeyUserData: map[string]any{"lang": "fr", "a": 1}},
			want: []string{
				`auth_tkt="` + mustCookie(Ticket{UserID: "alice", UserData: "a=1&lang=fr", Time: t1700}, "sha256") + `"; Path=/app; secure; HttpOnly; SameSite=Strict`,
				`auth_tkt="` + mustCookie(Ticket{UserID: "alice", UserData: "a=1&lang=fr", Time: t1700}, "sha256") + `"; Path=/app; Domain=example.com; secure; HttpOnly; SameSite=Strict`,
			},
		},
		{
			name:   "domains forget",
			o:      Options{Domains: []string{"a.example", "b.example"}, HTTPOnly: &off},
			forget: true,
			want: []string{
				`auth_tkt="INVALID"; Path=/; Domain=a.example; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT; SameSite=Lax`,
				`auth_tkt="INVALID"; Path=/; Domain=b.example; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT; SameSite=Lax`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, tt.o)
			r := req("example.com:8080", tt.remote)
			var h http.Header
			if tt.forget {
				h = p.Forget(r, nil)
			} else {
				h = p.Remember(r, tt.id)
			}
			if diff := cmp.Diff(tt.want, h["Set-Cookie"]); diff != "" {
				t.Fatalf("Set-Cookie (-want +got):\n%s", diff)
			}
		})
	}
}

// wrap returns app behind a who chain with p as its identifier and
// authenticator.
func wrap(t testing.TB, p *Plugin, app http.Handler) http.Handler {
	t.Helper()
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "auth_tkt", Plugin: p}},
		Authenticators: []who.Entry{{Name: "auth_tkt", Plugin: p}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Wrap(app)
}

// identifiedAs is what the chain passes to Remember on an identified
// request: Identify's identity with the authenticated userid (nil when
// Identify found no ticket).
func identifiedAs(t testing.TB, p *Plugin, r *http.Request) who.Identity {
	t.Helper()
	id, err := p.Identify(r)
	if err != nil {
		t.Fatalf("Identify: %v", err)
	}
	if id == nil {
		return nil
	}
	id[who.KeyUserID] = id.Str(KeyTicketUserID)
	return id
}

func mustCookie(t Ticket, algo string) string {
	v, err := t.Cookie("s33kr1t", algo)
	if err != nil {
		panic(err)
	}
	return v
}

func TestRepozeDomainsHosts(t *testing.T) {
	t.Parallel()
	p := mustNew(t, repozeLike(Options{}))
	for _, tt := range []struct {
		host string
		n    int
	}{
		{"127.0.0.1:8765", 3},
		{"[::1]:8080", 1},
		{"example.com", 3},
		{"", 1},
	} {
		h := p.Forget(req(tt.host, ""), nil)
		if len(h["Set-Cookie"]) != tt.n {
			t.Errorf("host %q: %d cookies %q, want %d", tt.host, len(h["Set-Cookie"]), h["Set-Cookie"], tt.n)
		}
	}
}

func TestRememberUnchangedIsNil(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	v := mustCookie(Ticket{UserID: "alice", Tokens: []string{"a", "b"}, UserData: "k=v", Time: t1700.Add(-time.Hour)}, "md5")
	id := identifiedAs(t, p, req("h", "", "auth_tkt=\""+v+"\""))
	if h := p.Remember(req("h", "", "auth_tkt=\""+v+"\""), id); h != nil {
		t.Fatalf("unchanged: got %q", h)
	}
	id[who.KeyTokens] = []string{"a"}
	if h := p.Remember(req("h", "", "auth_tkt=\""+v+"\""), id); h == nil {
		t.Fatal("changed tokens: no header")
	}
	if h := p.Remember(req("h", ""), who.Identity{}); h != nil {
		t.Fatal("no userid: got headers")
	}
	if h := p.Remember(req("h", ""), who.Identity{who.KeyUserID: "bad\"quote", who.KeyTokens: []string{`a"b`}}); h != nil {
		t.Fatal("unencodable token: got headers")
	}
}

func TestReissueAndTimeout(t *testing.T) {
	t.Parallel()
	mk := func(age time.Duration) string {
		return "auth_tkt=" + mustCookie(Ticket{UserID: "alice", Time: t1700.Add(-age)}, "md5")
	}
	tests := []struct {
		name     string
		o        Options
		age      time.Duration
		identify bool
		reissue  bool
	}{
		{"no timeout", Options{}, 1000 * time.Hour, true, false},
		{"fixed expiry, fresh", Options{Timeout: who.Duration(time.Hour)}, 59 * time.Minute, true, false},
		{"fixed expiry, at the edge", Options{Timeout: who.Duration(time.Hour)}, time.Hour, true, false},
		{"fixed expiry, expired", Options{Timeout: who.Duration(time.Hour)}, time.Hour + time.Second, false, true},
		{"sliding, young", Options{Timeout: who.Duration(time.Hour), ReissueTime: who.Duration(10 * time.Minute)}, 5 * time.Minute, true, false},
		{"sliding, reissued", Options{Timeout: who.Duration(time.Hour), ReissueTime: who.Duration(10 * time.Minute)}, 11 * time.Minute, true, true},
		{"reissue only", Options{ReissueTime: who.Duration(time.Minute)}, 2 * time.Minute, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, tt.o)
			r := req("h", "", mk(tt.age))
			id := identifiedAs(t, p, r)
			if (id != nil) != tt.identify {
				t.Fatalf("identify = %v, want found=%v", id, tt.identify)
			}
			if id == nil {
				id = who.Identity{who.KeyUserID: "alice"} // a login
			}
			if h := p.Remember(r, id); (h != nil) != tt.reissue {
				t.Fatalf("remember = %q, want reissue=%v", h, tt.reissue)
			}
		})
	}
}

// apacheTicket is what Apache mod_auth_tkt writes: the tokens field always
// present, base64 without quotes.
func apacheTicket(secret, uid, tokens, ud string, ts time.Time, algo string) string {
	d := sum(nil, algo, nil, uint32(ts.Unix()), secret, uid, tokens, ud)
	raw := string(d) + hex.EncodeToString([]byte{byte(ts.Unix() >> 24), byte(ts.Unix() >> 16), byte(ts.Unix() >> 8), byte(ts.Unix())}) + uid + "!" + tokens + "!" + ud
	return base64.StdEncoding.EncodeToString([]byte(raw))
}

func TestIdentifyEncodings(t *testing.T) {
	t.Parallel()
	v := mustCookie(Ticket{UserID: "alice", Tokens: []string{"admin"}, UserData: "k=v", Time: t1700}, "md5")
	b64 := base64.StdEncoding.EncodeToString([]byte(v))
	want := who.Identity{KeyTicketUserID: "alice", KeyTimestamp: int64(1700000000), who.KeyTokens: []string{"admin"}, who.KeyUserData: "k=v"}
	noTok := mustCookie(Ticket{UserID: "alice", UserData: "k=v", Time: t1700}, "md5")
	wantNoTok := who.Identity{KeyTicketUserID: "alice", KeyTimestamp: int64(1700000000), who.KeyTokens: []string(nil), who.KeyUserData: "k=v"}
	tests := []struct {
		name   string
		cookie string
		want   who.Identity
	}{
		{"raw", "auth_tkt=" + v, want},
		{"quoted", `auth_tkt="` + v + `"`, want},
		{"percent21", "auth_tkt=" + strings.ReplaceAll(v, "!", "%21"), want},
		{"percent21 quoted", `auth_tkt="` + strings.ReplaceAll(v, "!", "%21") + `"`, want},
		{"base64", "auth_tkt=" + b64, want},
		{"base64 quoted", `auth_tkt="` + b64 + `"`, want},
		{"base64 unpadded", "auth_tkt=" + strings.TrimRight(b64, "="), want},
		{"base64 escaped", "auth_tkt=" + strings.NewReplacer("=", "%3D", "+", "%2B", "/", "%2F").Replace(b64), want},
		{"apache empty tokens field", "auth_tkt=" + apacheTicket("s33kr1t", "alice", "", "k=v", t1700, "md5"), wantNoTok},
		{"repoze no tokens field", "auth_tkt=" + noTok, wantNoTok},
		{"other cookies around", `sess=a b; x={"a": 1}; auth_tkt="` + v + `"; y=2`, want},
		{"first bad, second good", `auth_tkt="INVALID"; auth_tkt=garbage!; auth_tkt="` + v + `"`, want},
		{"tampered", "auth_tkt=" + strings.Replace(v, "alice", "admin", 1), nil},
		{"wrong case digest", "auth_tkt=" + strings.ToUpper(v[:32]) + v[32:], nil},
		{"truncated", "auth_tkt=" + v[:20], nil},
		{"bad timestamp", "auth_tkt=" + v[:32] + "zzzzzzzz" + v[40:], nil},
		{"no bang", "auth_tkt=" + strings.ReplaceAll(v, "!", ""), nil},
		{"INVALID", `auth_tkt="INVALID"`, nil},
		{"empty", `auth_tkt=`, nil},
		{"other name", `auth_tkt2=` + v, nil},
		{"none", "", nil},
	}
	p := mustNew(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := p.Identify(req("h", "", tt.cookie))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserIDEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		enc     string
		uid     string
		wantErr bool
		wantIn  string // the userid as it appears in the ticket
	}{
		{"repoze bang round-trips", EncodingRepoze, "a!b", false, "a%21b"},
		{"repoze space", EncodingRepoze, "bob smith", false, "bob%20smith"},
		{"repoze utf8", EncodingRepoze, "zoë@example.com", false, "zo%C3%AB%40example.com"},
		{"repoze invalid utf8", EncodingRepoze, "a\xff", true, ""},
		{"repoze empty", EncodingRepoze, "", true, ""},
		{"mod_auth_tkt plain", EncodingModAuthTkt, "alice@example.com", false, "alice@example.com"},
		{"mod_auth_tkt space", EncodingModAuthTkt, "bob smith", true, ""},
		{"mod_auth_tkt bang", EncodingModAuthTkt, "a!b", true, ""},
		{"mod_auth_tkt percent", EncodingModAuthTkt, "a%20b", true, ""},
		{"mod_auth_tkt utf8", EncodingModAuthTkt, "zoë", true, ""},
		{"unknown", "latin1", "alice", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := Ticket{UserID: tt.uid, Time: t1700, Encoding: tt.enc}.Cookie("k", "sha256")
			if tt.wantErr {
				if !errors.Is(err, ErrUnencodable) {
					t.Fatalf("err = %v, want ErrUnencodable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v[72 : len(v)-1]; got != tt.wantIn {
				t.Fatalf("in ticket: %q, want %q", got, tt.wantIn)
			}
			back, err := ParseEncoding("k", v, nil, "sha256", tt.enc)
			if err != nil || back.UserID != tt.uid {
				t.Fatalf("parse: %q, %v", back.UserID, err)
			}
			// The plugin round-trips it too.
			p := mustNew(t, Options{Secret: "k", DigestAlgo: "sha256", UserIDEncoding: tt.enc})
			h := p.Remember(req("h", ""), who.Identity{who.KeyUserID: tt.uid})
			c := strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0]
			id, _ := p.Identify(req("h", "", c))
			if id.Str(KeyTicketUserID) != tt.uid {
				t.Fatalf("plugin round trip: %v", id)
			}
		})
	}
}

func TestIncludeIP(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{IncludeIP: true})
	remember := func(remote string) string {
		h := p.Remember(req("h", remote), who.Identity{who.KeyUserID: "alice"})
		return strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0]
	}
	tests := []struct {
		name       string
		from, back string
		ok         bool
	}{
		{"same v4", "10.0.0.7:1", "10.0.0.7:2", true},
		{"other v4", "10.0.0.7:1", "10.0.0.8:1", false},
		{"v4-mapped", "[::ffff:10.0.0.7]:1", "10.0.0.7:9", true},
		{"same v6 /64", "[2001:db8::1]:1", "[2001:db8::2]:1", true},
		{"other v6 /64", "[2001:db8::1]:1", "[2001:db8:0:1::1]:1", false},
		{"v6 zone", "[fe80::1%eth0]:1", "[fe80::2%eth1]:1", true},
		{"unparsable", "pipe", "pipe", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, _ := p.Identify(req("h", tt.back, remember(tt.from)))
			if (id != nil) != tt.ok {
				t.Fatalf("identified = %v, want %v", id != nil, tt.ok)
			}
		})
	}
	// An IPv4 ticket is the one both originals compute.
	want := "0a6735e125e63fa9fc6c9e2e199b59e46553f100alice!"
	if got := remember("10.0.0.7:5"); got != `auth_tkt="`+want+`"` {
		t.Fatalf("v4 ticket %s", got)
	}
}

func TestSecretRotation(t *testing.T) {
	t.Parallel()
	old := mustNew(t, Options{Secret: "old"})
	p := mustNew(t, Options{Secret: "new", OldSecrets: []string{"older", "old"}})
	h := old.Remember(req("h", ""), who.Identity{who.KeyUserID: "alice"})
	c := strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0]
	id, _ := p.Identify(req("h", "", c))
	if id.Str(KeyTicketUserID) != "alice" {
		t.Fatalf("old secret not accepted: %v", id)
	}
	nh := p.Remember(req("h", "", c), who.Identity{who.KeyUserID: "alice"})
	if nh == nil {
		t.Fatal("ticket signed with an old secret was not reissued")
	}
	nc := strings.SplitN(nh.Get("Set-Cookie"), ";", 2)[0]
	if id, _ := mustNew(t, Options{Secret: "new"}).Identify(req("h", "", nc)); id == nil {
		t.Fatal("reissued ticket not signed with the new secret")
	}
	if h := p.Remember(req("h", "", nc), identifiedAs(t, p, req("h", "", nc))); h != nil {
		t.Fatal("new-secret ticket reissued again")
	}
}

func TestUserData(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, norm, typ string }{
		{"userid_type:int", "userid_type=int", "int"},
		{"userid_type=int&lang=fr", "userid_type=int&lang=fr", "int"},
		{"userid_type:unicode", "userid_type=unicode", "unicode"},
		{"lang=fr&userid_type=weird%20type", "lang=fr&userid_type=weird%20type", "weird type"},
		{"userid_type:in t", "userid_type:in t", ""},
		{"free text", "free text", ""},
		{"", "", ""},
	} {
		if got := normUserData(tt.in); got != tt.norm {
			t.Errorf("normUserData(%q) = %q, want %q", tt.in, got, tt.norm)
		}
		if got := UserIDType(tt.in); got != tt.typ {
			t.Errorf("UserIDType(%q) = %q, want %q", tt.in, got, tt.typ)
		}
	}
	// A 2.2 int-userid ticket is read, userid kept as a string.
	v := mustCookie(Ticket{UserID: "42", UserData: "userid_type:int", Time: t1700}, "md5")
	id, _ := mustNew(t, Options{}).Identify(req("h", "", "auth_tkt="+v))
	if id.Str(KeyTicketUserID) != "42" || id.Str(who.KeyUserData) != "userid_type=int" {
		t.Fatalf("2.2 ticket: %v", map[string]any(id))
	}
	// An unknown type is a string, never a crash.
	v = mustCookie(Ticket{UserID: "x", UserData: "userid_type=unicode", Time: t1700}, "md5")
	if id, _ := mustNew(t, Options{}).Identify(req("h", "", "auth_tkt="+v)); id.Str(KeyTicketUserID) != "x" {
		t.Fatal("unicode type ticket not read")
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{UserIDChecker: func(u string) bool { return u != "mallory" }})
	for _, tt := range []struct {
		id   who.Identity
		want string
	}{
		{who.Identity{KeyTicketUserID: "alice"}, "alice"},
		{who.Identity{KeyTicketUserID: "mallory"}, ""},
		{who.Identity{who.KeyLogin: "alice", who.KeyPassword: "x"}, ""},
		{nil, ""},
	} {
		got, err := p.Authenticate(nil, tt.id)
		if err != nil || got != tt.want {
			t.Errorf("Authenticate(%v) = %q, %v; want %q", map[string]any(tt.id), got, err, tt.want)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sf := filepath.Join(dir, "secret")
	if err := os.WriteFile(sf, []byte("  from-file-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	tests := []struct {
		name string
		o    Options
		key  string
	}{
		{"no secret", Options{}, "secret"},
		{"both", Options{Secret: longSecret, SecretFile: sf}, "secret"},
		{"missing file", Options{SecretFile: filepath.Join(dir, "nope")}, "secretfile"},
		{"empty file", Options{SecretFile: empty}, "secretfile"},
		{"digest", Options{Secret: longSecret, DigestAlgo: "sha3"}, "digest_algo"},
		{"encoding", Options{Secret: longSecret, UserIDEncoding: "utf8"}, "userid_encoding"},
		{"reissue > timeout", Options{Secret: longSecret, Timeout: who.Duration(time.Minute), ReissueTime: who.Duration(time.Hour)}, "reissue_time"},
		{"same_site none insecure", Options{Secret: longSecret, SameSite: "None"}, "same_site"},
		{"same_site bad", Options{Secret: longSecret, SameSite: "loose"}, "same_site"},
		{"cookie name", Options{Secret: longSecret, CookieName: "a b"}, "cookie_name"},
		{"domains and repoze", Options{Secret: longSecret, Domains: []string{"x"}, RepozeDomains: true}, "repoze_domains"},
		{"bad domain", Options{Secret: longSecret, Domains: []string{"x; y"}}, "domains"},
		{"ipv6 prefix", Options{Secret: longSecret, IPv6Prefix: 129}, "ipv6_prefix"},
		{"empty old secret", Options{Secret: longSecret, OldSecrets: []string{""}}, "old_secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.o.Logger = slog.New(slog.DiscardHandler)
			_, err := New(tt.o)
			var oe *who.OptionError
			if !errors.As(err, &oe) || oe.Key != tt.key {
				t.Fatalf("err = %v, want OptionError for %q", err, tt.key)
			}
			if !strings.HasPrefix(oe.Err.Error(), "authtkt: ") {
				t.Fatalf("message %q does not start with the package name", oe.Err)
			}
		})
	}
	p, err := New(Options{Logger: slog.New(slog.DiscardHandler), SecretFile: sf, Timeout: who.Duration(time.Hour), ReissueTime: who.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if p.secret != "from-file-0123456789abcdef" {
		t.Fatalf("secret from file = %q", p.secret)
	}
}

func TestFactory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tkt.secret"), []byte(longSecret+"\n"), 0o600)
	for _, name := range []string{"authtkt", "auth_tkt", "repoze.who.plugins.auth_tkt:make_plugin"} {
		f, canon, err := who.DefaultRegistry.Factory(name)
		if err != nil || canon != "authtkt" {
			t.Fatalf("%s: %v %q", name, err, canon)
		}
		pl, err := f(who.PluginSpec{Name: "t", Use: name, Dir: dir, Logger: slog.New(slog.DiscardHandler), Decode: func(v any) error {
			v.(*Options).SecretFile = "tkt.secret"
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if pl.(*Plugin).secret != longSecret {
			t.Fatal("secretfile not resolved against spec.Dir")
		}
	}
}

func TestPluginTicket(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{Secret: "new", OldSecrets: []string{"old"}, Timeout: who.Duration(time.Minute)})
	fresh := mustCookie(Ticket{UserID: "a", Time: t1700}, "md5")
	oldv, _ := Ticket{UserID: "a", Time: t1700}.Cookie("old", "md5")
	stale, _ := Ticket{UserID: "a", Time: t1700.Add(-time.Hour)}.Cookie("new", "md5")
	for _, tt := range []struct {
		v    string
		want error
	}{
		{fresh, ErrBadDigest},
		{oldv, nil},
		{stale, ErrExpired},
		{"junk", ErrMalformed},
	} {
		if _, err := p.Ticket(tt.v, nil); !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("Ticket(%q) = %v, want %v", tt.v, err, tt.want)
		}
	}
}

// TestThroughMiddleware runs the plugin in a who chain: a ticket
// authenticates, login remembers, logout forgets.
func TestThroughMiddleware(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	h := wrap(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/logout" {
			for _, c := range who.APIFrom(r).Logout("")["Set-Cookie"] {
				w.Header().Add("Set-Cookie", c)
			}
		}
		res := who.ResultFrom(r.Context())
		if res == nil {
			w.Write([]byte("anonymous"))
			return
		}
		w.Write([]byte(res.UserID + " " + strings.Join(tokenList(res.Identity[who.KeyTokens]), ",")))
	}))
	v := mustCookie(Ticket{UserID: "alice", Tokens: []string{"admin"}, Time: t1700}, "md5")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req("h", "", "auth_tkt="+v))
	if rec.Body.String() != "alice admin" || rec.Header()["Set-Cookie"] != nil {
		t.Fatalf("got %q %q", rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	r := req("h", "", "auth_tkt="+v)
	r.URL.Path = "/logout"
	h.ServeHTTP(rec, r)
	if got := rec.Header()["Set-Cookie"]; !slices.Equal(got, []string{`auth_tkt="INVALID"; Path=/; Max-Age=0; Expires=Tue, 14 Nov 2023 22:13:20 GMT; HttpOnly; SameSite=Lax`}) {
		t.Fatalf("logout: %q", got)
	}
}
