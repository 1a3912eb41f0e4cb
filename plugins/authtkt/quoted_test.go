package authtkt

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// unquoteCases are cookie values and what Python's http.cookies._unquote
// makes of them (checked against Python by TestCookieUnquote).
var unquoteCases = []struct{ in, want string }{
	{`abc`, `abc`},
	{`a\054b`, `a\054b`}, // not quoted: as it is
	{`"abc"`, `abc`},
	{`""`, ``},
	{`"`, `"`},
	{`"a\054b"`, `a,b`},
	{`"a\073b"`, `a;b`},
	{`"\"x\""`, `"x"`},
	{`"a\\b"`, `a\b`},
	{`"a\qb"`, `aqb`},
	{`"\377\000"`, "\xff\x00"},
	{`"\400"`, `400`},  // first octal digit over 3: "\4" is "4"
	{`"\12x"`, `12x`},  // two digits: "\1" is "1"
	{`"\0549"`, `,9`},  // three digits at most
	{`"abc\"`, `abc\`}, // a backslash at the end stays
	{"\"a\\\nb\"", "a\\\nb"},
	{`"a\\\054"`, `a\,`},
	{`"x"y"`, `x"y`},
	{`'a\054'`, `'a\054'`},
}

// TestCookieUnquote: quoted cookie values are decoded exactly as Python's
// http.cookies._unquote decodes them (which repoze.who reads cookies
// with), octal escapes as bytes.
func TestCookieUnquote(t *testing.T) {
	t.Parallel()
	for _, tc := range unquoteCases {
		if got := cookieUnquote(tc.in); got != tc.want {
			t.Errorf("cookieUnquote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	t.Run("python", func(t *testing.T) {
		py := testserver.PythonRepoze(t)
		var in []string
		for _, tc := range unquoteCases {
			in = append(in, hex.EncodeToString([]byte(tc.in)))
		}
		arg, _ := json.Marshal(in)
		out, err := exec.Command(py, "-c", `import sys, json
from http.cookies import _unquote
for h in json.loads(sys.argv[1]):
    print('x' + _unquote(bytes.fromhex(h).decode('latin-1')).encode('latin-1').hex())
`, string(arg)).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != len(unquoteCases) {
			t.Fatalf("python printed %d lines for %d cases:\n%s", len(lines), len(unquoteCases), out)
		}
		for i, tc := range unquoteCases {
			b, _ := hex.DecodeString(strings.TrimPrefix(lines[i], "x"))
			if string(b) != tc.want {
				t.Errorf("Python _unquote(%q) = %q, the table says %q", tc.in, b, tc.want)
			}
		}
	})
}

// rawTicket signs a ticket as repoze.who's AuthTicket.cookie_value writes
// it, whatever bytes its fields hold: the tokens field only when there
// are tokens, or (as Apache writes it) when the user data holds "!",
// which Python would misplace.
func rawTicket(uid, tokens, ud string, ts time.Time) string {
	v := string(sum(nil, "md5", nil, uint32(ts.Unix()), "s33kr1t", uid, tokens, ud)) + fmt.Sprintf("%08x", ts.Unix()) + quote(uid) + "!"
	if tokens != "" || strings.Contains(ud, "!") {
		v += tokens + "!"
	}
	return v + ud
}

// pyQuote is what Python's http.cookies writes for a value: in double
// quotes, with \" \\ \054 \073 and \ooo for control and non-ASCII bytes.
func pyQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == ',' || c == ';' || c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestReissueUnusualTickets (issue 12 item 4): tickets gowho accepts with
// a space in a token or in the user data, or "!" in the user data, are
// reissued after reissue_time with the same fields (before, Remember
// refused to write them and the timeout silently stopped sliding); those
// it cannot write (a quote, a tab or a non-ASCII byte in the user data,
// sent escaped as Python writes them) are not, and the log says why once
// per plugin, not per request.
func TestReissueUnusualTickets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tokens, ud string
		reissue          bool
		raw              bool // sent in quotes without escapes
	}{
		{"space in a token", "a b,c", "", true, false},
		{"space in the user data", "", "x y", true, false},
		{"! in the user data", "", "x!y", true, false},
		{"! and space in the user data, with tokens", "admin", "x!y z", true, false},
		{"comma in the user data", "", "a,b", true, false},
		{"tab in the user data", "", "x\ty", false, false},
		{"quote in the user data", "", `x"y`, false, false},
		{"backslash in a token", `a\b`, "", false, false},
		{"non-ASCII user data", "", "caf\xc3\xa9", false, false},
		{"non-ASCII user data, raw", "", "caf\xc3\xa9", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock(t1700)
			log, buf := whotest.Logger(t)
			p := mustNew(t, Options{Timeout: who.Duration(time.Hour), ReissueTime: who.Duration(10 * time.Minute), Now: c.Now, Logger: log})
			h := loginApp(t, p)
			cookie := pyQuote(rawTicket("alice", tc.tokens, tc.ud, t1700))
			if tc.raw {
				cookie = `"` + rawTicket("alice", tc.tokens, tc.ud, t1700) + `"`
			}
			want := identifiedAs(t, p, req("h", "", "auth_tkt="+cookie))
			if want == nil {
				t.Fatalf("ticket %s not accepted", cookie)
			}
			c.Advance(11 * time.Minute)
			for range 3 {
				jar := cookieJar{value: cookie}
				rec := jar.send(t, h, getReq())
				if got := rec.Header()["Set-Cookie"] != nil; got != tc.reissue {
					t.Fatalf("reissued: %v, want %v (%q)", got, tc.reissue, rec.Header()["Set-Cookie"])
				}
				if !tc.reissue {
					continue
				}
				got := identifiedAs(t, p, req("h", "", "auth_tkt="+jar.value))
				if got == nil {
					t.Fatalf("reissued ticket %s not accepted", jar.value)
				}
				if !slices.Equal(got[who.KeyTokens].([]string), want[who.KeyTokens].([]string)) || got[who.KeyUserData] != want[who.KeyUserData] ||
					got[KeyTimestamp] != c.Now().Unix() {
					t.Fatalf("reissued %v, want the fields of %v issued now", got, want)
				}
			}
			logged := strings.Count(buf.String(), "cannot be written as a ticket")
			if want := map[bool]int{true: 0, false: 1}[tc.reissue]; logged != want {
				t.Fatalf("logged %d times, want %d:\n%s", logged, want, buf)
			}
		})
	}
}

// TestPythonWrittenTickets: tickets in the Set-Cookie lines Python writes
// (WebOb's Response.set_cookie and http.cookies, which escape "," as
// \054 and a quote as \") are read; the ones gowho can write back are
// reissued, and Python reads the reissued tickets with the same fields.
func TestPythonWrittenTickets(t *testing.T) {
	t.Parallel()
	py := testserver.PythonRepoze(t)
	type ticket struct {
		Writer, Tokens, UserData string
		Reissue                  bool
	}
	tickets := []ticket{
		{"webob", "admin,editor", "k=v", true},
		{"webob", "x", "a b,c!d", true}, // Python cannot write "!" in user data without tokens
		{"http.cookies", "admin,editor", "k=v", true},
		{"http.cookies", "a b", "x y!z", true},
		{"http.cookies", "", `say "hi" now`, false},
	}
	arg, _ := json.Marshal(tickets)
	out, err := exec.Command(py, "-W", "ignore", "-c", `import sys, json
from http.cookies import SimpleCookie
from webob import Response
from repoze.who._auth_tkt import AuthTicket
for t in json.loads(sys.argv[1]):
    v = AuthTicket('s33kr1t', 'alice', '0.0.0.0', tokens=[x for x in t['Tokens'].split(',') if x], user_data=t['UserData'], time=1700000000).cookie_value()
    if t['Writer'] == 'webob':
        r = Response()
        r.set_cookie('auth_tkt', v)
        line = r.headers['Set-Cookie']
    else:
        c = SimpleCookie()
        c['auth_tkt'] = v
        line = c.output(header='')
    print(line.strip().split(';')[0])
`, string(arg)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(tickets) {
		t.Fatalf("python printed %d lines for %d tickets:\n%s", len(lines), len(tickets), out)
	}
	if !strings.Contains(lines[0], `admin\054editor`) {
		t.Fatalf("WebOb no longer writes \\054 for a comma: %s", lines[0])
	}
	c := newClock(t1700.Add(11 * time.Minute))
	p := mustNew(t, Options{ReissueTime: who.Duration(10 * time.Minute), Now: c.Now})
	h := loginApp(t, p)
	var reissued []string
	for i, tk := range tickets {
		id := identifiedAs(t, p, req("h", "", lines[i]))
		if id == nil {
			t.Fatalf("%s's %s not read", tk.Writer, lines[i])
		}
		if got, want := strings.Join(id[who.KeyTokens].([]string), ","), tk.Tokens; got != want || id[who.KeyUserData] != tk.UserData {
			t.Fatalf("%s's %s: tokens %q user data %q, want %q %q", tk.Writer, lines[i], got, id[who.KeyUserData], want, tk.UserData)
		}
		r := getReq()
		r.Header.Set("Cookie", lines[i])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		set := rec.Header()["Set-Cookie"]
		if (set != nil) != tk.Reissue {
			t.Fatalf("%s's %s: reissued %q, want a reissue: %v", tk.Writer, lines[i], set, tk.Reissue)
		}
		if set != nil {
			reissued = append(reissued, strings.SplitN(set[0], ";", 2)[0])
		}
	}
	// Python reads the reissued tickets as a browser sends them back.
	arg, _ = json.Marshal(reissued)
	out, err = exec.Command(py, "-c", `import sys, json
from http.cookies import SimpleCookie
from repoze.who._auth_tkt import parse_ticket
for line in json.loads(sys.argv[1]):
    c = SimpleCookie()
    c.load(line)
    ts, uid, tokens, ud = parse_ticket('s33kr1t', c['auth_tkt'].value, '0.0.0.0')
    print(json.dumps([ts, uid, ','.join(tokens), ud], separators=(',', ':')))
`, string(arg)).CombinedOutput()
	if err != nil {
		t.Fatalf("python reading %q: %v\n%s", reissued, err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	j := 0
	for _, tk := range tickets {
		if !tk.Reissue {
			continue
		}
		want, _ := json.Marshal([]any{c.Now().Unix(), "alice", tk.Tokens, tk.UserData})
		if got[j] != string(want) {
			t.Errorf("Python read the reissued %s as %s, want %s", reissued[j], got[j], want)
		}
		j++
	}
}

// TestSecretKeys: an auth_tkt identity holds no secret (who.SecretKeyer).
func TestSecretKeys(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Options{})
	if sk, ok := any(p).(who.SecretKeyer); !ok || sk.SecretKeys() != nil {
		t.Fatal("*Plugin is not a who.SecretKeyer declaring no keys")
	}
	if got := who.SecretKeysOf(p); !slices.Equal(got, []string{who.KeyPassword}) {
		t.Fatalf("SecretKeysOf = %q, want only %q", got, who.KeyPassword)
	}
}

// TestPythonReissueKeepsLifetime: repoze.who reissues a persistent
// login's ticket with the lifetime token among the tokens (its cookie is
// a session one, repoze.who's own behaviour), so gowho reads max_age from
// Python's reissued ticket and its next reissue is persistent again.
func TestPythonReissueKeepsLifetime(t *testing.T) {
	t.Parallel()
	py := testserver.PythonRepoze(t)
	// Issued an hour ago, so that Python's reissue_time has passed.
	p := mustNew(t, Options{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	h := p.Remember(req("h", ""), who.Identity{who.KeyUserID: "alice", who.KeyTokens: []string{"admin"}, who.KeyMaxAge: 3600})
	v, _, _ := strings.Cut(h.Get("Set-Cookie"), ";")
	out, err := exec.Command(py, "-W", "ignore", "-c", `import sys
from repoze.who.plugins.auth_tkt import AuthTktCookiePlugin
p = AuthTktCookiePlugin('s33kr1t', reissue_time=60)
env = {'HTTP_COOKIE': sys.argv[1], 'REMOTE_ADDR': '192.0.2.1', 'HTTP_HOST': 'h'}
id = p.identify(env)
id['repoze.who.userid'] = id['repoze.who.plugins.auth_tkt.userid']
print(p.remember(env, id)[0][1].split(';')[0])
`, v).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	back := identifiedAs(t, p, req("h", "", strings.TrimSpace(string(out))))
	if back == nil || back[who.KeyMaxAge] != int64(3600) || !slices.Equal(back[who.KeyTokens].([]string), []string{"admin"}) {
		t.Fatalf("Python's reissue %s read as %v", out, back)
	}
	if ts, _ := back[KeyTimestamp].(int64); ts < time.Now().Unix()-600 {
		t.Fatalf("Python did not reissue: %s", out)
	}
}
