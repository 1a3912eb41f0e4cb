package who_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gowho/gowho/who"
)

// rememberingChain: X-Login identifies, every login authenticates, the
// remember header is Set-Cookie: tkt=USER, and a challenger answers 401s.
func rememberingChain(t *testing.T) *who.Middleware {
	return mustNew(t, who.Config{
		Identifiers:    entries("tkt", cookieID()),
		Authenticators: entries("a", acceptLogin("")),
		Challengers:    entries("c", &challenger{name: "c"}),
	})
}

func TestWriterDecisionPoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantCookie string
	}{
		{"WriteHeader then Write", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(201)
			_, _ = io.WriteString(w, "made")
		}, 201, "made", "tkt=bob"},
		{"Write without WriteHeader", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("hi"))
		}, 200, "hi", "tkt=bob"},
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 200, "", "tkt=bob"},
		{"Flush first", func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Flusher).Flush()
			w.Header().Set("X-Late", "ignored")
			_, _ = w.Write([]byte("streamed"))
		}, 200, "streamed", "tkt=bob"},
		{"ResponseController Flush first", func(w http.ResponseWriter, _ *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			_, _ = w.Write([]byte("streamed"))
		}, 200, "streamed", "tkt=bob"},
		{"401 with a body is challenged", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-App", "1")
			w.WriteHeader(401)
			_, _ = w.Write([]byte("private"))
			w.(http.Flusher).Flush()
		}, 401, "challenged by c", ""},
		{"informational status passes", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(103)
			_, _ = w.Write([]byte("x"))
		}, 200, "x", "tkt=bob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(rememberingChain(t).Wrap(tc.handler))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("X-Login", "bob")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if got := resp.Header.Get("Set-Cookie"); got != tc.wantCookie && !(tc.wantStatus == 401 && strings.Contains(got, "INVALID")) {
				t.Errorf("Set-Cookie %q, want %q", got, tc.wantCookie)
			}
			if resp.Header.Get("X-App") != "" {
				t.Error("the app's headers leaked into a challenge")
			}
		})
	}
}

func TestWriterHijack(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(rememberingChain(t).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack through the wrapper: %v", err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nraw ok")
		_ = brw.Flush()
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("X-Login", "bob")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "raw ok" || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("got %q %v", body, resp.Header)
	}
}

func TestWriterResponseControllerDeadlines(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(rememberingChain(t).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
		_, _ = w.Write([]byte("ok"))
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestWriterHijackOnRawConn(t *testing.T) {
	t.Parallel()
	// A websocket-style upgrade: the handler hijacks without writing, and
	// the middleware writes nothing after it.
	srv := httptest.NewServer(rememberingChain(t).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		conn.Close()
	})))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Login: bob\r\n\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 101") {
		t.Errorf("got %q", line)
	}
}

// readFromRecorder is an underlying writer with its own io.ReaderFrom,
// as net/http's (sendfile); it records what reached it.
type readFromRecorder struct {
	h         http.Header
	status    int
	body      strings.Builder
	readFroms int
}

func (w *readFromRecorder) Header() http.Header { return w.h }
func (w *readFromRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *readFromRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
func (w *readFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	w.readFroms++
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.Copy(&w.body, r)
}

// plainReader hides strings.Reader's WriterTo, so io.Copy asks the writer
// for ReadFrom.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// TestWriterReadFrom: io.Copy into the wrapper reaches the underlying
// writer's ReadFrom after the decision (remember headers added, status
// passed on), and a challenged response discards what it reads.
func TestWriterReadFrom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        int // written before io.Copy; 0: none
		wantStatus    int
		wantBody      string
		wantReadFroms int
		wantCookie    string
	}{
		{"io.Copy decides 200", 0, 200, "file", 1, "tkt=bob"},
		{"after WriteHeader 206", 206, 206, "file", 1, "tkt=bob"},
		{"challenged 401 discards", 401, 401, "challenged by c", 0, "tkt=INVALID; Max-Age=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n int64
			var err error
			h := rememberingChain(t).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				n, err = io.Copy(w, plainReader{strings.NewReader("file")})
			}))
			rec := &readFromRecorder{h: http.Header{}}
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("X-Login", "bob")
			h.ServeHTTP(rec, req)
			if n != 4 || err != nil {
				t.Errorf("io.Copy = %d, %v; want 4, nil", n, err)
			}
			if rec.status != tc.wantStatus || rec.body.String() != tc.wantBody || rec.readFroms != tc.wantReadFroms {
				t.Errorf("got %d %q with %d ReadFrom calls, want %d %q with %d", rec.status, rec.body.String(), rec.readFroms,
					tc.wantStatus, tc.wantBody, tc.wantReadFroms)
			}
			if got := rec.h.Get("Set-Cookie"); got != tc.wantCookie {
				t.Errorf("Set-Cookie %q, want %q", got, tc.wantCookie)
			}
		})
	}
}

// TestWriterReadFromWithoutReaderFrom: an underlying writer without
// ReadFrom still gets every byte, through Write.
func TestWriterReadFromWithoutReaderFrom(t *testing.T) {
	t.Parallel()
	h := rememberingChain(t).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if _, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("body")); err != nil {
			t.Error(err)
		}
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Login", "bob")
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "body" || rec.Header().Get("Set-Cookie") != "tkt=bob" {
		t.Errorf("got %d %q %v", rec.Code, rec.Body, rec.Header())
	}
}
