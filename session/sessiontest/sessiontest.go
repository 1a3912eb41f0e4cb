// Package sessiontest is the conformance suite every session.Store must
// pass: save and load, expiry, delete, tampered and malformed tokens,
// unknown ids never adopted, idle and absolute deadlines through the
// manager, concurrent requests on one session, and a session destroyed
// by another request while one that loaded it runs staying destroyed after
// that request saves (SaveInfo.Existing). RunUserIndex is the
// suite of a session.UserIndexStore (Manager.DestroyUser).
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T) session.Store { return memstore.New(memstore.Options{}) })
//	}
package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowho/gowho/session"
)

// Run runs the suite on stores made by newStore (one per subtest).
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("SaveLoad", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		ctx := context.Background()
		id := session.NewID()
		tok, err := st.Save(ctx, id, []byte("record one"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		gotID, rec, found, err := st.Load(ctx, tok)
		if err != nil || !found || gotID != id || string(rec) != "record one" {
			t.Fatalf("Load = %q, %q, %v, %v; want %q, record one, true, nil", gotID, rec, found, err, id)
		}
		tok2, err := st.Save(ctx, id, []byte("record two"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("Save again: %v", err)
		}
		if _, rec, found, _ := st.Load(ctx, tok2); !found || string(rec) != "record two" {
			t.Fatalf("after overwrite Load = %q, %v", rec, found)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		ctx := context.Background()
		tok, err := st.Save(ctx, session.NewID(), []byte("short"), time.Now().Add(700*time.Millisecond))
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		if _, _, found, err := st.Load(ctx, tok); !found || err != nil {
			t.Fatalf("Load before expiry: found=%v err=%v", found, err)
		}
		time.Sleep(1100 * time.Millisecond)
		if _, _, found, err := st.Load(ctx, tok); found || err != nil {
			t.Fatalf("Load after expiry: found=%v err=%v; want false, nil", found, err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		ctx := context.Background()
		id := session.NewID()
		tok, err := st.Save(ctx, id, []byte("x"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := st.Delete(ctx, id); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, _, found, err := st.Load(ctx, tok); found || err != nil {
			t.Fatalf("Load after Delete: found=%v err=%v", found, err)
		}
		if err := st.Delete(ctx, session.NewID()); err != nil {
			t.Fatalf("Delete of a missing id: %v", err)
		}
	})
	t.Run("TamperedAndMalformed", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		ctx := context.Background()
		tok, err := st.Save(ctx, session.NewID(), []byte("secret data"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		var bad []string
		for _, i := range []int{0, len(tok) / 2, len(tok) - 1} {
			b := []byte(tok)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			bad = append(bad, string(b))
		}
		bad = append(bad, "", "x", tok[:len(tok)-1], tok+"A", "../../../../etc/passwd",
			"with space", "a\r\nb", strings.Repeat("A", 5000), session.NewID())
		for _, b := range bad {
			if _, _, found, err := st.Load(ctx, b); found || err != nil {
				t.Errorf("Load(%.40q) = found %v, err %v; want false, nil", b, found, err)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		ctx := context.Background()
		id := session.NewID()
		tok, err := st.Save(ctx, id, []byte("v-init"), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		var wg sync.WaitGroup
		var fails atomic.Int32
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					want := fmt.Sprintf("v-%d-%d", g, i)
					if _, err := st.Save(ctx, id, []byte(want), time.Now().Add(time.Hour)); err != nil {
						t.Errorf("Save: %v", err)
						fails.Add(1)
						return
					}
					_, rec, found, err := st.Load(ctx, tok)
					if err != nil || (!found && tok == id) || found && !strings.HasPrefix(string(rec), "v-") {
						t.Errorf("Load = %q, %v, %v", rec, found, err)
						fails.Add(1)
						return
					}
				}
			})
		}
		wg.Wait()
	})
	if _, ok := newStore(t).(session.SaveInfoStore); ok {
		t.Run("SaveExisting", func(t *testing.T) {
			t.Parallel()
			st := newStore(t).(session.SaveInfoStore)
			ctx := context.Background()
			exp := time.Now().Add(time.Hour)
			id := session.NewID()
			if _, err := st.SaveInfo(ctx, id, []byte("one"), exp, session.SaveInfo{}); err != nil {
				t.Fatalf("SaveInfo: %v", err)
			}
			tok, err := st.SaveInfo(ctx, id, []byte("two"), exp, session.SaveInfo{Existing: true})
			if err != nil {
				t.Fatalf("SaveInfo Existing over a record there: %v", err)
			}
			if _, rec, found, _ := st.Load(ctx, tok); !found || string(rec) != "two" {
				t.Fatalf("after SaveInfo Existing: Load = %q, %v; want two", rec, found)
			}
			if err := st.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			for _, gone := range []string{id, session.NewID()} { // deleted, never saved
				if _, err := st.SaveInfo(ctx, gone, []byte("back"), exp, session.SaveInfo{Existing: true}); !errors.Is(err, session.ErrGone) {
					t.Errorf("SaveInfo Existing over no record: err %v; want session.ErrGone", err)
				}
				if _, _, found, err := st.Load(ctx, gone); found || err != nil {
					t.Errorf("SaveInfo Existing over no record stored it: found %v, err %v", found, err)
				}
			}
		})
		t.Run("SaveExistingRacesDelete", func(t *testing.T) {
			// The check and the write are one step: however the saves
			// interleave with the Delete, none after it writes back.
			t.Parallel()
			st := newStore(t).(session.SaveInfoStore)
			ctx := context.Background()
			exp := time.Now().Add(time.Hour)
			for round := range 5 {
				id := session.NewID()
				tok, err := st.SaveInfo(ctx, id, []byte("r"), exp, session.SaveInfo{})
				if err != nil {
					t.Fatalf("SaveInfo: %v", err)
				}
				const savers = 8
				saving := make(chan struct{}, savers) // one per saver, after its first save
				var wg sync.WaitGroup
				for g := range savers {
					wg.Go(func() {
						for i := range 200 {
							_, err := st.SaveInfo(ctx, id, fmt.Appendf(nil, "r-%d-%d", g, i), exp, session.SaveInfo{Existing: true})
							if i == 0 {
								saving <- struct{}{}
							}
							if errors.Is(err, session.ErrGone) {
								return
							}
							if err != nil {
								t.Errorf("SaveInfo Existing: %v", err)
								return
							}
						}
					})
				}
				for range savers { // the Delete lands among saves in progress
					<-saving
				}
				if err := st.Delete(ctx, id); err != nil {
					t.Fatalf("Delete: %v", err)
				}
				wg.Wait()
				if _, rec, found, err := st.Load(ctx, tok); found || err != nil {
					t.Fatalf("round %d: after Delete and the saves racing it, Load = %q, %v, %v; want not found (written back)", round, rec, found, err)
				}
			}
		})
	}
	t.Run("Manager", func(t *testing.T) { runManager(t, newStore) })
}

// clock is a settable clock for the manager.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// app serves /set?v=X (stores X under "v"), /get (writes "v"), /renew and
// /destroy behind a manager on st.
func app(t *testing.T, st session.Store, c *clock) *httptest.Server {
	m, err := session.New(session.Options{
		Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour, Now: c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r).Set("v", r.URL.Query().Get("v")); err != nil {
			t.Errorf("Set: %v", err)
		}
		fmt.Fprint(w, session.From(r).ID())
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.From(r).GetString("v"))
	})
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.From(r).ID())
	})
	srv := httptest.NewServer(m.Wrap(mux))
	t.Cleanup(srv.Close)
	return srv
}

// get requests path with cookie (name=value, "" for none) and returns the
// body and the session cookie set, if any.
func get(t *testing.T, srv *httptest.Server, path, cookie string) (string, *http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", session.DefaultCookieName+"="+cookie)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := readAll(resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == session.DefaultCookieName && c.MaxAge >= 0 {
			return body, c
		}
	}
	return body, nil
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func runManager(t *testing.T, newStore func(t *testing.T) session.Store) {
	for _, mode := range []string{modeSet, modeTouch, modeRenew} {
		t.Run("DestroyedStaysDestroyed/"+mode, func(t *testing.T) {
			t.Parallel()
			runInFlight(t, newStore(t), mode, destroyFromAnotherRequest)
		})
	}
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: time.Now()}
		srv := app(t, newStore(t), c)
		_, ck := get(t, srv, "/set?v=hello", "")
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie = %+v; want one, HttpOnly, SameSite=Lax", ck)
		}
		if body, _ := get(t, srv, "/get", ck.Value); body != "hello" {
			t.Fatalf("GET /get = %q; want hello", body)
		}
	})
	t.Run("UnknownIDNotAdopted", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: time.Now()}
		srv := app(t, newStore(t), c)
		planted := session.NewID()
		id, ck := get(t, srv, "/set?v=victim", planted)
		if id == planted || ck == nil || ck.Value == planted {
			t.Fatalf("planted id adopted: id %q cookie %+v", id, ck)
		}
		if body, _ := get(t, srv, "/get", planted); body != "" {
			t.Fatalf("planted id loads %q", body)
		}
	})
	t.Run("TamperedCookie", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: time.Now()}
		srv := app(t, newStore(t), c)
		_, ck := get(t, srv, "/set?v=hello", "")
		b := []byte(ck.Value)
		b[len(b)/2] ^= 1
		if b[len(b)/2] < '0' {
			b[len(b)/2] = 'Q'
		}
		if body, _ := get(t, srv, "/get", string(b)); body != "" {
			t.Fatalf("tampered cookie loads %q", body)
		}
	})
	t.Run("IdleDeadline", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: time.Now()}
		srv := app(t, newStore(t), c)
		_, ck := get(t, srv, "/set?v=idle", "")
		c.add(9 * time.Minute) // touched: the deadline moves
		body, ck2 := get(t, srv, "/get", ck.Value)
		if body != "idle" {
			t.Fatalf("before idle deadline: %q", body)
		}
		if ck2 != nil {
			ck = ck2 // a client-side store re-seals
		}
		c.add(9 * time.Minute)
		if body, _ := get(t, srv, "/get", ck.Value); body != "idle" {
			t.Fatalf("used within the idle timeout, yet gone: %q", body)
		}
		c.add(11 * time.Minute)
		if body, _ := get(t, srv, "/get", ck.Value); body != "" {
			t.Fatalf("after idle deadline: %q", body)
		}
	})
	t.Run("AbsoluteDeadline", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: time.Now()}
		srv := app(t, newStore(t), c)
		_, ck := get(t, srv, "/set?v=abs", "")
		for i := 1; i <= 7; i++ { // busy every 9 minutes: idle never hits
			c.add(9 * time.Minute)
			body, ck2 := get(t, srv, "/get", ck.Value)
			if ck2 != nil {
				ck = ck2
			}
			want := "abs"
			if i*9 >= 60 {
				want = "" // the absolute deadline (1h) has passed
			}
			if body != want {
				t.Fatalf("after %d minutes: %q; want %q", i*9, body, want)
			}
		}
	})
	t.Run("ConcurrentRequests", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: time.Now()}
		srv := app(t, newStore(t), c)
		id, ck := get(t, srv, "/set?v=0", "")
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/set?v=%d", srv.URL, i), nil)
				req.Header.Set("Cookie", session.DefaultCookieName+"="+ck.Value)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				if got := readAll(resp); got != id {
					t.Errorf("concurrent request saw id %q; want %q", got, id)
				}
				resp.Body.Close()
			})
		}
		wg.Wait()
		// Last writer wins: whichever it was, the value is one of them.
		if len(ck.Value) == session.IDLen { // a server-side store
			body, _ := get(t, srv, "/get", ck.Value)
			if len(body) != 1 || body[0] < '0' || body[0] > '7' {
				t.Fatalf("after concurrent writes: %q", body)
			}
		}
	})
}
