package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
	"github.com/gowho/gowho/session/cookiestore"
	"github.com/gowho/gowho/session/memstore"
	"github.com/gowho/gowho/who"
	"github.com/gowho/gowho/who/whotest"
)

// countingStore counts calls and can fail them.
type countingStore struct {
	session.Store
	loads, saves, deletes atomic.Int32
	down                  atomic.Bool
}

var errDown = errors.New("backend down")

func (c *countingStore) Load(ctx context.Context, tok string) (string, []byte, bool, error) {
	c.loads.Add(1)
	if c.down.Load() {
		return "", nil, false, errDown
	}
	return c.Store.Load(ctx, tok)
}

func (c *countingStore) Save(ctx context.Context, id string, rec []byte, exp time.Time) (string, error) {
	c.saves.Add(1)
	if c.down.Load() {
		return "", errDown
	}
	return c.Store.Save(ctx, id, rec, exp)
}

func (c *countingStore) Delete(ctx context.Context, id string) error {
	c.deletes.Add(1)
	if c.down.Load() {
		return errDown
	}
	return c.Store.Delete(ctx, id)
}

type fixture struct {
	st  *countingStore
	m   *session.Manager
	log *whotest.LogBuffer
}

func newFixture(t *testing.T, o session.Options) *fixture {
	t.Helper()
	f := &fixture{st: &countingStore{Store: memstore.New(memstore.Options{})}, log: &whotest.LogBuffer{}}
	if o.Store == nil {
		o.Store = f.st
	} else {
		f.st.Store = o.Store
		o.Store = f.st
	}
	o.Logger = slog.New(slog.NewTextHandler(f.log, nil))
	m, err := session.New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

// do serves one request through the manager and returns the recorder.
func (f *fixture) do(h http.HandlerFunc, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
	}
	rec := httptest.NewRecorder()
	f.m.Wrap(h).ServeHTTP(rec, req)
	return rec
}

func sessionCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.DefaultCookieName {
			return c
		}
	}
	return nil
}

func set(k string, v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).Set(k, v); err != nil {
			http.Error(w, err.Error(), 500)
		}
	}
}

func TestNoMiddleware(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	s := session.From(r)
	if s != nil {
		t.Fatal("From without middleware is not nil")
	}
	for name, err := range map[string]error{
		"Set": s.Set("a", 1), "Delete": s.Delete("a"), "Clear": s.Clear(), "Flash": s.Flash("info", "x"),
		"RenewID": s.RenewID(), "Destroy": s.Destroy(), "Load": s.Load(),
	} {
		if !errors.Is(err, session.ErrNoMiddleware) {
			t.Errorf("%s = %v; want ErrNoMiddleware", name, err)
		}
	}
	if s.Get("a") != nil || s.ID() != "" || s.Keys() != nil || s.Flashes() != nil || !s.Created().IsZero() {
		t.Error("a nil session returned data")
	}
}

func TestLazyAndDirty(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	rec := f.do(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }, "")
	if sessionCookie(rec) != nil || f.st.loads.Load()+f.st.saves.Load() != 0 {
		t.Fatalf("untouched session: cookie %v, %d loads, %d saves", sessionCookie(rec), f.st.loads.Load(), f.st.saves.Load())
	}
	rec = f.do(func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Get("x") }, "")
	if sessionCookie(rec) != nil || f.st.saves.Load() != 0 {
		t.Fatal("a read-only new session was saved")
	}
	// OR semantics: a change, then setting an unchanged value, still saves.
	rec = f.do(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		_ = s.Set("n", 1)
		_ = s.Set("other", "x")
		_ = s.Set("other", "x")
	}, "")
	c := sessionCookie(rec)
	if c == nil || f.st.saves.Load() != 1 {
		t.Fatalf("changed session: cookie %v, %d saves; want a cookie and 1 save", c, f.st.saves.Load())
	}
	saves := f.st.saves.Load()
	rec = f.do(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.From(r).Get("n"))
	}, c.Value)
	if rec.Body.String() != "1" || sessionCookie(rec) != nil || f.st.saves.Load() != saves {
		t.Fatalf("read-only: body %q cookie %v saves %d", rec.Body, sessionCookie(rec), f.st.saves.Load()-saves)
	}
}

func TestSavedBeforeRedirectAndFlush(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			_ = session.From(r).Set("user", "alice")
			http.Redirect(w, r, "/home", http.StatusFound)
		}},
		{"flush", func(w http.ResponseWriter, r *http.Request) {
			_ = session.From(r).Set("user", "alice")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush through the writer: %v", err)
			}
			if err := session.From(r).Set("late", 1); !errors.Is(err, session.ErrCommitted) {
				t.Errorf("Set after the response started = %v; want ErrCommitted", err)
			}
		}},
		{"no write", func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Set("user", "alice") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(tc.h, "")
			c := sessionCookie(rec)
			if c == nil {
				t.Fatal("no session cookie")
			}
			got := f.do(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, session.From(r).GetString("user")) }, c.Value)
			if got.Body.String() != "alice" {
				t.Fatalf("saved user = %q", got.Body)
			}
		})
	}
}

func TestFlashes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	rec := f.do(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r)
		_ = s.Flash("info", "saved")
		_ = s.Flash("error", "but slowly")
	}, "")
	c := sessionCookie(rec)
	var got []session.Flash
	read := func(w http.ResponseWriter, r *http.Request) { got = session.From(r).Flashes() }
	f.do(read, c.Value)
	want := []session.Flash{{"info", "saved"}, {"error", "but slowly"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Flashes = %v; want %v", got, want)
	}
	saves := f.st.saves.Load()
	f.do(read, c.Value)
	if len(got) != 0 {
		t.Fatalf("flashes read twice: %v", got)
	}
	if f.st.saves.Load() != saves {
		t.Fatal("reading no flashes saved the session")
	}
}

func TestRenewAndDestroy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	c := sessionCookie(f.do(set("k", "v"), ""))
	rec := f.do(func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).RenewID(); err != nil {
			t.Error(err)
		}
	}, c.Value)
	c2 := sessionCookie(rec)
	if c2 == nil || c2.Value == c.Value {
		t.Fatalf("RenewID: cookie %v", c2)
	}
	get := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, session.From(r).GetString("k")) }
	if b := f.do(get, c2.Value).Body.String(); b != "v" {
		t.Fatalf("renewed session lost its data: %q", b)
	}
	if b := f.do(get, c.Value).Body.String(); b != "" {
		t.Fatalf("old id still loads after RenewID: %q", b)
	}
	rec = f.do(func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Destroy() }, c2.Value)
	if exp := sessionCookie(rec); exp == nil || exp.MaxAge >= 0 {
		t.Fatalf("Destroy did not expire the cookie: %v", rec.Header())
	}
	if b := f.do(get, c2.Value).Body.String(); b != "" {
		t.Fatalf("destroyed session still loads: %q", b)
	}
}

func TestStoreDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	c := sessionCookie(f.do(set("k", "v"), ""))
	f.st.down.Store(true)
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "public") }
	if rec := f.do(ok, c.Value); rec.Code != 200 {
		t.Fatalf("a request not using the session: %d", rec.Code)
	}
	uses := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "user=", session.From(r).GetString("k"))
	}
	rec := f.do(uses, c.Value)
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "user=") {
		t.Fatalf("store down: %d %q; want 503 without the handler's body", rec.Code, rec.Body)
	}
	if !strings.Contains(f.log.String(), "backend down") {
		t.Fatalf("no log line: %q", f.log)
	}
	if rec := f.do(set("x", 1), ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("save while down: %d", rec.Code)
	}
	f.st.down.Store(false)
	if rec := f.do(uses, c.Value); rec.Code != 200 || rec.Body.String() != "user=v" {
		t.Fatalf("after recovery: %d %q", rec.Code, rec.Body)
	}
}

func TestAutoloadStoreDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{Autoload: true})
	c := sessionCookie(f.do(set("k", "v"), ""))
	f.st.down.Store(true)
	ran := false
	rec := f.do(func(w http.ResponseWriter, r *http.Request) { ran = true }, c.Value)
	if rec.Code != http.StatusServiceUnavailable || ran {
		t.Fatalf("autoload with the store down: %d, handler ran %v", rec.Code, ran)
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	st, err := cookiestore.New(cookiestore.Options{Secret: strings.Repeat("k", 32)})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, session.Options{Store: st})
	rec := f.do(set("big", strings.Repeat("x", 5000)), "")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(f.log.String(), "too large") {
		t.Fatalf("oversized cookie: %d, log %q", rec.Code, f.log)
	}
}

func TestUnsupportedValue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	f.do(func(w http.ResponseWriter, r *http.Request) {
		for _, v := range []any{struct{}{}, make(chan int), &http.Request{}, []int{1}} {
			if err := session.From(r).Set("k", v); !errors.Is(err, session.ErrUnsupportedType) {
				t.Errorf("Set(%T) = %v; want ErrUnsupportedType", v, err)
			}
		}
	}, "")
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	srv := httptest.NewTLSServer(f.m.Wrap(set("k", "v")))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if c := sessionCookie(f.do(set("k", "v"), "")); c.Secure {
		t.Error("Secure set on a plain HTTP request although secure is unset")
	}
	no := false
	g := newFixture(t, session.Options{HTTPOnly: &no, CookieDomain: "example.org", CookiePath: "/app", SameSite: http.SameSiteStrictMode})
	c := sessionCookie(g.do(set("k", "v"), ""))
	if c.HttpOnly || c.Domain != "example.org" || c.Path != "/app" || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("options not applied: %+v", c)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	no := false
	for name, o := range map[string]session.Options{
		"no store":        {},
		"bad name":        {Store: memstore.New(memstore.Options{}), CookieName: "a b"},
		"none not secure": {Store: memstore.New(memstore.Options{}), SameSite: http.SameSiteNoneMode, Secure: &no},
	} {
		if _, err := session.New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestValueRoundTrip stores each kind of session data and reads it back in
// the next request, from the store: values come back as Get documents.
func TestValueRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want any
	}{
		{nil, nil}, {true, true}, {false, false}, {"", ""}, {"héllo", "héllo"},
		{0, 0}, {-7, -7}, {int64(1 << 62), 1 << 62}, {int8(-3), -3}, {uint(9), 9},
		{uint64(1<<64 - 1), uint64(1<<64 - 1)}, {1.5, 1.5}, {float32(0.5), 0.5},
		{[]byte{0, 1}, []byte{0, 1}}, {[]string{"a", "b"}, []string{"a", "b"}},
		{map[string]string{"k": "v"}, map[string]string{"k": "v"}},
		{[]any{1, "x", nil, []any{true}}, []any{1, "x", nil, []any{true}}},
		{map[string]any{"a": map[string]any{"b": []string{"c"}}}, map[string]any{"a": map[string]any{"b": []string{"c"}}}},
		{who.Identity{"repoze.who.userid": "alice"}, map[string]any{"repoze.who.userid": "alice"}},
	}
	for _, tc := range tests {
		f := newFixture(t, session.Options{})
		c := sessionCookie(f.do(set("k", tc.in), ""))
		if c == nil {
			t.Fatalf("Set(%#v): no session saved (log %q)", tc.in, f.log)
		}
		var got any
		f.do(func(w http.ResponseWriter, r *http.Request) { got = session.From(r).Get("k") }, c.Value)
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
			t.Errorf("round trip of %#v = %#v; want %#v", tc.in, got, tc.want)
		}
	}
}

func TestRollingAndPersistent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{Rolling: true, Persistent: true})
	c := sessionCookie(f.do(set("k", "v"), ""))
	if c.Expires.IsZero() {
		t.Fatal("persistent cookie without Expires")
	}
	saves := f.st.saves.Load()
	rec := f.do(func(w http.ResponseWriter, r *http.Request) { _ = session.From(r).Get("k") }, c.Value)
	if f.st.saves.Load() != saves+1 || sessionCookie(rec) == nil {
		t.Fatal("rolling: a loaded session was not saved, or its cookie not re-sent")
	}
	saves = f.st.saves.Load()
	f.do(func(w http.ResponseWriter, r *http.Request) {}, c.Value)
	if f.st.saves.Load() != saves {
		t.Fatal("rolling: an untouched session was loaded and saved")
	}
}

func TestTwoManagers(t *testing.T) {
	t.Parallel()
	outer := newFixture(t, session.Options{CookieName: "outer"})
	inner := newFixture(t, session.Options{CookieName: "inner"})
	var sameOuter, sameInner, innermost bool
	h := outer.m.Wrap(inner.m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, i := outer.m.From(r), inner.m.From(r)
		sameOuter = o != nil && o != i
		sameInner = i != nil
		innermost = session.From(r) == i
		_ = o.Set("who", "outer")
		_ = i.Set("who", "inner")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !sameOuter || !sameInner || !innermost {
		t.Fatalf("From: outer %v inner %v innermost %v", sameOuter, sameInner, innermost)
	}
	names := map[string]bool{}
	for _, c := range rec.Result().Cookies() {
		names[c.Name] = true
	}
	if !names["outer"] || !names["inner"] {
		t.Fatalf("cookies %v; want both managers'", names)
	}
}

func TestHijackSaves(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	srv := httptest.NewServer(f.m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.From(r).Set("k", "v")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		_ = brw.Flush()
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || f.st.saves.Load() != 1 {
		t.Fatalf("hijacked: status %d, %d saves; want 204 and the session saved", resp.StatusCode, f.st.saves.Load())
	}
}

func TestServeContentThroughWriter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, session.Options{})
	srv := httptest.NewServer(f.m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.From(r).Set("k", "v")
		http.ServeContent(w, r, "x.txt", time.Time{}, strings.NewReader(strings.Repeat("a", 100000)))
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 100000 || len(resp.Cookies()) != 1 {
		t.Fatalf("served %d bytes, %d cookies", len(b), len(resp.Cookies()))
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"caller went away", done, fmt.Errorf("redisstore: get: %w", context.Canceled), true},
		{"no error", done, nil, false},
		{"backend failure after the caller left", done, errors.New("connection refused"), false},
		{"canceled error, live context", context.Background(), context.Canceled, false},
		{"deadline is not a cancellation", expired, context.DeadlineExceeded, false},
	}
	for _, tc := range tests {
		if got := session.Cancelled(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: Cancelled = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestWrapExpiryLayout: the layout the file, memcached and Redis stores
// keep (records written before an upgrade must still load): the expiry in
// unix nanoseconds, big-endian, then the record; a zero expiry is never.
func TestWrapExpiryLayout(t *testing.T) {
	t.Parallel()
	exp := time.Unix(0, 0x0102030405060708)
	tests := []struct {
		name   string
		expiry time.Time
		want   []byte
	}{
		{"expiry", exp, []byte{1, 2, 3, 4, 5, 6, 7, 8, 'r', 'e', 'c'}},
		{"never", time.Time{}, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'r', 'e', 'c'}},
	}
	for _, tc := range tests {
		b := session.WrapExpiry([]byte("rec"), tc.expiry)
		if !bytes.Equal(b, tc.want) {
			t.Errorf("%s: WrapExpiry = %x; want %x", tc.name, b, tc.want)
		}
		if rec, ok := session.UnwrapExpiry(b, exp.Add(-1)); !ok || string(rec) != "rec" {
			t.Errorf("%s: UnwrapExpiry before expiry = %q, %v", tc.name, rec, ok)
		}
		if _, ok := session.UnwrapExpiry(b, exp); ok == !tc.expiry.IsZero() {
			t.Errorf("%s: UnwrapExpiry at expiry ok = %v", tc.name, ok)
		}
	}
	if _, ok := session.UnwrapExpiry([]byte{1, 2, 3}, exp); ok {
		t.Error("UnwrapExpiry of 3 bytes: ok")
	}
}
