// Package differences_test holds the table behind docs/migration.md's
// "Differences not named elsewhere": each row is one difference, named as
// the page names it, with the request, what gowho answers (through the
// real plugins of testdata/who.toml) and what Python repoze.who 2.2
// answers to the same bytes (testdata/repoze_who.py, through wsgiref's own
// request parsing), so the page cannot drift from either side.
package differences_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/testserver"
	"github.com/gowho/gowho/plugins/authtkt"
	_ "github.com/gowho/gowho/plugins/basicauth"
	_ "github.com/gowho/gowho/plugins/htpasswd"
	_ "github.com/gowho/gowho/plugins/redirector"
	"github.com/gowho/gowho/who"
)

// secret is testdata/who.toml's auth_tkt secret.
const secret = "differences-secret-0123456789abcdef"

// loginURL is testdata/who.toml's redirector login_url.
const loginURL = "/login?next=%2Fhome&debug"

// answer is what one side did with a row's request.
type answer struct {
	Status  int        `json:"status"`
	Headers [][]string `json:"headers"`
	Body    string     `json:"body"`
	Error   string     `json:"error"` // an exception (Python) or panic (Go): a 500
	Value   string     `json:"value"` // the classify probe's classification
}

// header returns the values of the header name, in order.
func (a answer) header(name string) []string {
	var vs []string
	for _, h := range a.Headers {
		if strings.EqualFold(h[0], name) {
			vs = append(vs, h[1])
		}
	}
	return vs
}

// want is what a row expects of one side; zero fields are not checked.
type want struct {
	status int      // the response status
	body   string   // the whole body
	error  string   // a substring of the exception (a 500)
	value  string   // the classification
	query  string   // the raw query of Location
	domain []string // the Domain attribute of each Set-Cookie ("" for host-only)
	// location is a prefix of Location.
	location string
	// cookie matches every Set-Cookie (and there is one at least).
	cookie *regexp.Regexp
}

// check returns what differs between a and w, or "".
func (w want) check(a answer) string {
	var bad []string
	if w.error != "" && !strings.Contains(a.Error, w.error) {
		bad = append(bad, fmt.Sprintf("error %q, want one containing %q", a.Error, w.error))
	}
	if w.error == "" && a.Error != "" {
		bad = append(bad, fmt.Sprintf("unexpected error %q", a.Error))
	}
	if w.status != 0 && a.Status != w.status {
		bad = append(bad, fmt.Sprintf("status %d, want %d", a.Status, w.status))
	}
	if w.body != "" && a.Body != w.body {
		bad = append(bad, fmt.Sprintf("body %q, want %q", a.Body, w.body))
	}
	if w.value != "" && a.Value != w.value {
		bad = append(bad, fmt.Sprintf("classification %q, want %q", a.Value, w.value))
	}
	if w.query != "" {
		loc := a.header("Location")
		var q string
		if len(loc) == 1 {
			if u, err := url.Parse(loc[0]); err == nil {
				q = u.RawQuery
			}
		}
		if q != w.query {
			bad = append(bad, fmt.Sprintf("Location %q (query %q), want query %q", loc, q, w.query))
		}
	}
	if w.location != "" {
		if loc := a.header("Location"); len(loc) != 1 || !strings.HasPrefix(loc[0], w.location) {
			bad = append(bad, fmt.Sprintf("Location %q, want one starting %q", loc, w.location))
		}
	}
	if w.cookie != nil {
		cs := a.header("Set-Cookie")
		if len(cs) == 0 {
			bad = append(bad, "no Set-Cookie")
		}
		for _, c := range cs {
			if !w.cookie.MatchString(c) {
				bad = append(bad, fmt.Sprintf("Set-Cookie %q does not match %s", c, w.cookie))
			}
		}
	}
	if w.domain != nil {
		var got []string
		for _, c := range a.header("Set-Cookie") {
			d := ""
			for _, attr := range strings.Split(c, ";") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(attr), "Domain="); ok {
					d = v
				}
			}
			got = append(got, d)
		}
		if !slices.Equal(got, w.domain) {
			bad = append(bad, fmt.Sprintf("Set-Cookie domains %q, want %q (%q)", got, w.domain, a.header("Set-Cookie")))
		}
	}
	return strings.Join(bad, "; ")
}

// row is one difference.
type row struct {
	name   string // as docs/migration.md names it
	probe  string // "middleware", "classify" or "forget" (see repoze_who.py)
	raw    string // the HTTP request, byte for byte
	gowho  want
	python want
}

// ticket returns a valid auth_tkt cookie value for userid with user data
// ud, as both sides mint it (md5, no IP).
func ticket(t *testing.T, userid, ud string) string {
	t.Helper()
	v, err := authtkt.Ticket{UserID: userid, UserData: ud, Time: time.Unix(1700000000, 0)}.Cookie(secret, authtkt.MD5)
	if err != nil {
		t.Fatalf("minting the ticket of %q: %v", userid, err)
	}
	return v
}

// basic returns an Authorization header value for login and password.
func basic(login, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
}

// get returns a raw HTTP/1.1 GET of target with the header lines.
func get(target string, lines ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: app.example\r\n" + join(lines)
}

// join ends each header line and the header block with CRLF.
func join(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func rows(t *testing.T) []row {
	tk := ticket(t, "alice", "")
	// Python's http.cookies (and so WebOb's set_cookie) writes a ticket
	// with a "," in a quoted string as \054.
	multi, err := authtkt.Ticket{UserID: "alice", Tokens: []string{"admin", "editor"}, Time: time.Unix(1700000000, 0)}.Cookie(secret, authtkt.MD5)
	if err != nil {
		t.Fatal(err)
	}
	escaped := `"` + strings.ReplaceAll(multi, ",", `\054`) + `"`
	const nobody = "user=None class=browser data="
	const alice = "user=alice class=browser data="
	// came_from of GET http://app.example/protected.
	const cameFrom = "came_from=http%3A%2F%2Fapp.example%2Fprotected"
	return []row{
		// The differences issue 12 item 21 found.
		{
			name:   "a NUL byte in a Basic password",
			probe:  "middleware",
			raw:    get("/", "Authorization: "+basic("alice", "alice-pw\x00anything")),
			gowho:  want{status: 200, body: alice},
			python: want{error: "ValueError: embedded null character"},
		},
		{
			name:   "stripped unbalanced quotes around a ticket",
			probe:  "middleware",
			raw:    get("/", `Cookie: auth_tkt="`+tk),
			gowho:  want{status: 200, body: alice},
			python: want{status: 200, body: nobody},
		},
		{
			// After issue 12 item 4 (authtkt decodes quoted-string
			// escapes as Python does) both sides agree; before it
			// gowho answered user=None.
			name:   "backslash escapes in quoted cookies",
			probe:  "middleware",
			raw:    get("/", "Cookie: auth_tkt="+escaped),
			gowho:  want{status: 200, body: alice},
			python: want{status: 200, body: alice},
		},
		{
			name:   "a comma as cookie separator",
			probe:  "middleware",
			raw:    get("/", "Cookie: lang=en, auth_tkt="+tk),
			gowho:  want{status: 200, body: nobody},
			python: want{status: 200, body: alice},
		},
		{
			name:   "userid_type:float",
			probe:  "middleware",
			raw:    get("/", "Cookie: auth_tkt="+ticket(t, "1.5", "userid_type:float")),
			gowho:  want{status: 200, body: "user=1.5 class=browser data=userid_type=float"},
			python: want{status: 200, body: "user=1.5 class=browser data=userid_type:float"},
		},
		{
			name:   "raw UTF-8 in the query",
			probe:  "middleware",
			raw:    get("/protected?q=\xc3\xa9"),
			gowho:  want{status: 302, query: "next=%2Fhome&debug&" + cameFrom + "%3Fq%3D%C3%A9"},
			python: want{status: 302, query: "next=%2Fhome&" + cameFrom + "%3Fq%3D%C3%83%C2%A9"},
		},
		{
			name:   "a trailing ? kept in came_from",
			probe:  "middleware",
			raw:    get("/protected?"),
			gowho:  want{status: 302, query: "next=%2Fhome&debug&" + cameFrom + "%3F"},
			python: want{status: 302, query: "next=%2Fhome&" + cameFrom},
		},
		{
			name:   "the login_url's own query kept verbatim",
			probe:  "middleware",
			raw:    get("/protected"),
			gowho:  want{status: 302, query: "next=%2Fhome&debug&" + cameFrom},
			python: want{status: 302, query: "next=%2Fhome&" + cameFrom},
		},
		{
			name:   "repoze_domains without a Host",
			probe:  "forget",
			raw:    "GET / HTTP/1.0\r\n\r\n",
			gowho:  want{domain: []string{""}},
			python: want{domain: []string{"", "server.example", ".server.example"}},
		},
		{
			name:   "two User-Agent lines in classification",
			probe:  "classify",
			raw:    get("/", "User-Agent: Mozilla/5.0", "User-Agent: neon/0.30"),
			gowho:  want{value: "browser"},
			python: want{value: "dav"},
		},
		{
			name:   "userid_type:unicode",
			probe:  "middleware",
			raw:    get("/", "Cookie: auth_tkt="+ticket(t, "bob", "userid_type:unicode")),
			gowho:  want{status: 200, body: "user=bob class=browser data=userid_type=unicode"},
			python: want{error: "TypeError: a bytes-like object is required"},
		},
		// Differences the plugin pages name; docs/migration.md lists them
		// with a link.
		{
			name:   `basicauth: a non-ASCII Authorization header is a "no"`,
			probe:  "middleware",
			raw:    get("/", "Authorization: Basic \xe9"+strings.TrimPrefix(basic("alice", "alice-pw"), "Basic ")),
			gowho:  want{status: 200, body: nobody},
			python: want{error: "UnicodeEncodeError"},
		},
		{
			name:   `basicauth: characters outside base64 make the header a "no"`,
			probe:  "middleware",
			raw:    get("/", "Authorization: Basic *"+strings.TrimPrefix(basic("alice", "alice-pw"), "Basic ")),
			gowho:  want{status: 200, body: nobody},
			python: want{status: 200, body: alice},
		},
		{
			name:   "htpasswd: the first matching line wins",
			probe:  "middleware",
			raw:    get("/", "Authorization: "+basic("bob", "bob-first")),
			gowho:  want{status: 200, body: "user=bob class=browser data="},
			python: want{status: 200, body: nobody},
		},
		{
			name:   "authtkt: the first that verifies wins",
			probe:  "middleware",
			raw:    get("/", "Cookie: auth_tkt="+tk+"; auth_tkt="+ticket(t, "bob", "")),
			gowho:  want{status: 200, body: alice},
			python: want{status: 200, body: "user=bob class=browser data="},
		},
		{
			name:   "authtkt: a userid holding CR, LF or NUL, or not valid UTF-8, is refused",
			probe:  "middleware",
			raw:    get("/", "Cookie: auth_tkt="+pythonTicket("eve\r\nX-Admin: 1", 1700000000)),
			gowho:  want{status: 200, body: nobody},
			python: want{status: 200, body: "user=eve\r\nX-Admin: 1 class=browser data="},
		},
		{
			name:   "authtkt: Expires is in GMT",
			probe:  "forget",
			raw:    get("/"),
			gowho:  want{cookie: regexp.MustCompile(`; Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$`)},
			python: want{cookie: regexp.MustCompile(`; Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d$`)},
		},
		{
			name:   "redirector: a relative login_url stays a path",
			probe:  "middleware",
			raw:    get("/protected"),
			gowho:  want{status: 302, location: "/login?"},
			python: want{status: 302, location: "http://app.example/login?"},
		},
	}
}

// pythonTicket is repoze.who's AuthTicket(secret, userid, "0.0.0.0",
// time=ts).cookie_value() with md5, written out here because gowho refuses
// to mint some of the userids it can hold: the URL-quoted userid in the
// ticket, the raw one digested.
func pythonTicket(userid string, ts uint32) string {
	var ipts [8]byte
	binary.BigEndian.PutUint32(ipts[4:], ts)
	inner := md5.Sum([]byte(string(ipts[:]) + secret + userid + "\x00" + "" + "\x00" + ""))
	outer := md5.Sum([]byte(hex.EncodeToString(inner[:]) + secret))
	return fmt.Sprintf("%x%08x%s!", outer, ts, url.PathEscape(userid))
}

// chain loads testdata/who.toml.
func chain(t *testing.T) *config.Chain {
	t.Helper()
	c, err := config.Load(filepath.Join("testdata", "who.toml"), config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("loading testdata/who.toml: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// app is repoze_who.py's application: 401 under /protected for nobody,
// else who and the classification.
var app = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	user := who.UserID(r.Context())
	if strings.HasPrefix(r.URL.Path, "/protected") && user == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if user == "" {
		user = "None"
	}
	var data string
	if res := who.ResultFrom(r.Context()); res != nil {
		data = res.Identity.Str(who.KeyUserData)
	}
	fmt.Fprintf(w, "user=%s class=%s data=%s", user, who.Classification(r.Context()), data)
})

// readRequest parses raw as a Go server does.
func readRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("reading the row's request %q: %v", raw, err)
	}
	r.RemoteAddr = "127.0.0.1:5000"
	return r
}

// gowho runs the row through the chain.
func gowho(t *testing.T, c *config.Chain, rw row) (a answer) {
	t.Helper()
	r := readRequest(t, rw.raw)
	defer func() {
		if p := recover(); p != nil {
			a.Error = fmt.Sprint(p)
		}
	}()
	switch rw.probe {
	case "classify":
		a.Value = who.DefaultClassifier(r)
	case "forget":
		p, ok := c.Plugin("auth_tkt")
		if !ok {
			t.Fatal("testdata/who.toml has no [plugin.auth_tkt]")
		}
		for _, v := range p.(*authtkt.Plugin).Forget(r, nil)["Set-Cookie"] {
			a.Headers = append(a.Headers, []string{"Set-Cookie", v})
		}
	case "middleware":
		rec := httptest.NewRecorder()
		c.Handler(app).ServeHTTP(rec, r)
		a.Status = rec.Code
		a.Body = rec.Body.String()
		for k, vs := range rec.Header() {
			for _, v := range vs {
				a.Headers = append(a.Headers, []string{k, v})
			}
		}
	default:
		t.Fatalf("unknown probe %q", rw.probe)
	}
	return a
}

// latin1 is s as a WSGI string: each byte one rune.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// unlatin1 is the bytes of a WSGI string.
func unlatin1(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

// python runs every row through repoze_who.py once.
func python(t *testing.T, rs []row) map[string]answer {
	t.Helper()
	py := testserver.PythonRepoze(t)
	passwd, err := filepath.Abs(filepath.Join("testdata", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	type pyRow struct {
		Name  string `json:"name"`
		Probe string `json:"probe"`
		Raw   string `json:"raw"`
	}
	in := struct {
		Secret   string  `json:"secret"`
		Passwd   string  `json:"passwd"`
		LoginURL string  `json:"login_url"`
		Rows     []pyRow `json:"rows"`
	}{Secret: secret, Passwd: passwd, LoginURL: loginURL}
	for _, r := range rs {
		in.Rows = append(in.Rows, pyRow{r.name, r.probe, latin1(r.raw)})
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "repoze_who.py"))
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testdata/repoze_who.py: %v\n%s", err, stderr.Bytes())
	}
	got := map[string]answer{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var a struct {
			answer
			Name string `json:"name"`
		}
		if err := dec.Decode(&a); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("reading testdata/repoze_who.py's answer: %v\n%s", err, out)
		}
		a.Body = unlatin1(a.Body)
		for _, h := range a.Headers {
			h[1] = unlatin1(h[1])
		}
		got[a.Name] = a.answer
	}
	return got
}

// TestRowsNamedInDoc: every row is a difference docs/migration.md names
// (backticks and bold aside; a "plugin: " prefix names the bullet it is
// in), so a row and its line cannot part.
func TestRowsNamedInDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "migration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ToLower(strings.NewReplacer("`", "", "**", "").Replace(string(b)))
	doc = strings.Join(strings.Fields(doc), " ")
	for _, rw := range rows(t) {
		name := rw.name
		if _, rest, ok := strings.Cut(name, ": "); ok {
			name = rest
		}
		if !strings.Contains(doc, strings.ToLower(name)) {
			t.Errorf("row %q: docs/migration.md does not name %q", rw.name, name)
		}
	}
}

// TestDifferences checks each difference on both sides: gowho always,
// Python repoze.who where it is installed (testserver.PythonRepoze).
func TestDifferences(t *testing.T) {
	rs := rows(t)
	c := chain(t)
	t.Run("gowho", func(t *testing.T) {
		for _, rw := range rs {
			t.Run(rw.name, func(t *testing.T) {
				a := gowho(t, c, rw)
				if os.Getenv("DIFFERENCES_DUMP") != "" {
					t.Logf("gowho: %+v", a)
				}
				if bad := rw.gowho.check(a); bad != "" {
					t.Errorf("gowho: %s", bad)
				}
			})
		}
	})
	t.Run("repoze.who", func(t *testing.T) {
		got := python(t, rs)
		for _, rw := range rs {
			t.Run(rw.name, func(t *testing.T) {
				a, ok := got[rw.name]
				if !ok {
					t.Fatalf("repoze_who.py gave no answer for the row")
				}
				if os.Getenv("DIFFERENCES_DUMP") != "" {
					t.Logf("repoze.who: %+v", a)
				}
				if bad := rw.python.check(a); bad != "" {
					t.Errorf("repoze.who: %s", bad)
				}
			})
		}
	})
}
