package whocmd

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gowho/gowho/who/whotest"
)

// reloadDir holds a who.toml that tests rewrite, and two htpasswd
// files: passwd-a with alice, passwd-b with bob ({SHA}, so that load
// tests are not bcrypt-bound).
func reloadDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sha := func(pw string) string {
		sum := sha1.Sum([]byte(pw))
		return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
	}
	for name, line := range map[string]string{"passwd-a": "alice:" + sha("wonderland"), "passwd-b": "bob:" + sha("builder")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// brokenLine is the line of the unknown key in a broken reloadConfig.
const brokenLine = 4

// reloadConfig is generation gen's who.toml: a Basic challenge whose
// realm names gen, and the users of passwd-a (odd gen) or passwd-b (even
// gen). broken adds an unknown key on brokenLine.
func reloadConfig(gen int, broken bool) string {
	passwd := "passwd-a"
	if gen%2 == 0 {
		passwd = "passwd-b"
	}
	extra := ""
	if broken {
		extra = "realmm = \"typo\"\n"
	}
	return fmt.Sprintf("[plugin.basicauth]\nuse = \"basicauth\"\nrealm = \"gen %d\"\n%s"+
		"[plugin.htpasswd]\nuse = \"htpasswd\"\nfilename = %q\n"+
		"[identifiers]\nplugins = [\"basicauth\"]\n[authenticators]\nplugins = [\"htpasswd\"]\n"+
		"[challengers]\nplugins = [\"basicauth\"]\n", gen, extra, passwd)
}

// writeConfig replaces dir/who.toml at once (rename), so that a reload
// never reads half a file.
func writeConfig(t *testing.T, dir, data string) string {
	t.Helper()
	path := filepath.Join(dir, "who.toml")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

var realmGen = regexp.MustCompile(`^Basic realm="gen (\d+)"$`)

// probe sends GET /protected (as user when not "") and returns the
// status and, for a 401, the generation its realm names.
func probe(client *http.Client, url, user, pass string) (status, gen int, err error) {
	req, err := http.NewRequest("GET", url+"/protected", nil)
	if err != nil {
		return 0, 0, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, 0, err
	}
	switch resp.StatusCode {
	case 200:
		if string(body) != "protected: "+user+"\n" {
			return 200, 0, fmt.Errorf("200 with body %q", body)
		}
		return 200, 0, nil
	case 401:
		m := realmGen.FindStringSubmatch(resp.Header.Get("Www-Authenticate"))
		if m == nil {
			return 401, 0, fmt.Errorf("401 with WWW-Authenticate %q", resp.Header.Get("Www-Authenticate"))
		}
		gen, _ = strconv.Atoi(m[1])
		return 401, gen, nil
	}
	return resp.StatusCode, 0, fmt.Errorf("status %d, body %q", resp.StatusCode, body)
}

// TestReloadUnderLoad: 8 clients send requests without pause while the
// who.toml is reloaded 20 times, alternating the htpasswd file (alice,
// then bob) and naming the generation in the Basic realm. No request
// fails, none started after a reload returned sees an older chain, and
// after each reload the test's own requests see the new users. Every
// reload is logged as ok.
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	dir := reloadDir(t)
	path := writeConfig(t, dir, reloadConfig(1, false))
	var logBuf whotest.LogBuffer
	logger := slog.New(newMaskingHandler(slog.NewTextHandler(&logBuf, nil)))
	rh, err := newReloadable(path, logger, serveApp, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rh)
	defer srv.Close()

	const clients, reloads, maxPerClient = 8, 20, 200000
	var completed atomic.Int64 // the generation of the last reload that returned
	completed.Store(1)
	stop := make(chan struct{})
	progress := make(chan struct{}, 1024)
	var total, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}, Timeout: time.Minute}
			defer client.CloseIdleConnections()
			for i := 0; i < maxPerClient; i++ {
				select {
				case <-stop:
					return
				default:
				}
				floor := completed.Load()
				user, pass := "", ""
				if (c+i)%2 == 1 {
					user, pass = "alice", "wonderland"
				}
				status, gen, err := probe(client, srv.URL, user, pass)
				total.Add(1)
				if err == nil && status == 401 && int64(gen) < floor {
					err = fmt.Errorf("generation %d answered after reload %d returned", gen, floor)
				}
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if len(failures) < 10 {
						failures = append(failures, err.Error())
					}
					mu.Unlock()
				}
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	client := &http.Client{Timeout: time.Minute}
	for gen := 2; gen <= reloads+1; gen++ {
		for range 16 { // some load between reloads
			select {
			case <-progress:
			case <-time.After(time.Minute):
				t.Fatal("the clients stopped")
			}
		}
		writeConfig(t, dir, reloadConfig(gen, false))
		if err := rh.Reload(context.Background()); err != nil {
			t.Fatalf("reload %d: %v", gen, err)
		}
		completed.Store(int64(gen))
		if _, got, err := probe(client, srv.URL, "", ""); err != nil || got != gen {
			t.Errorf("after reload %d: realm of generation %d, %v", gen, got, err)
		}
		aliceWants, bobWants := 200, 401
		if gen%2 == 0 {
			aliceWants, bobWants = 401, 200
		}
		if st, _, err := probe(client, srv.URL, "alice", "wonderland"); st != aliceWants || err != nil {
			t.Errorf("after reload %d: alice got %d (%v), want %d", gen, st, err, aliceWants)
		}
		if st, _, err := probe(client, srv.URL, "bob", "builder"); st != bobWants || err != nil {
			t.Errorf("after reload %d: bob got %d (%v), want %d", gen, st, err, bobWants)
		}
	}
	close(stop)
	wg.Wait()
	if err := rh.Close(); err != nil {
		t.Error(err)
	}
	t.Logf("%d requests during %d reloads, %d failed", total.Load(), reloads, failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed, first ones:\n%s", failed.Load(), total.Load(), strings.Join(failures, "\n"))
	}
	if n := strings.Count(logBuf.String(), `msg="gowho reload" event=reload file=`+path+` ok=true errors=0`); n != reloads {
		t.Errorf("%d reload ok lines, want %d:\n%s", n, reloads, logBuf.String())
	}
}

// TestReloadBrokenFileKeepsChain: a who.toml with a mistake does not
// reload; the old chain keeps serving, and serve's log names the file,
// the line and the key, then says ok=false errors=1.
func TestReloadBrokenFileKeepsChain(t *testing.T) {
	t.Parallel()
	dir := reloadDir(t)
	path := writeConfig(t, dir, reloadConfig(1, false))
	var logBuf whotest.LogBuffer
	rh, err := newReloadable(path, slog.New(newMaskingHandler(slog.NewTextHandler(&logBuf, nil))), serveApp, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rh.Close()
	srv := httptest.NewServer(rh)
	defer srv.Close()
	writeConfig(t, dir, reloadConfig(2, true))
	if err := rh.Reload(context.Background()); err == nil {
		t.Fatal("the broken file reloaded")
	}
	if st, gen, err := probe(srv.Client(), srv.URL, "", ""); st != 401 || gen != 1 || err != nil {
		t.Errorf("after the failed reload: %d gen %d %v, want the first chain", st, gen, err)
	}
	if st, _, _ := probe(srv.Client(), srv.URL, "alice", "wonderland"); st != 200 {
		t.Errorf("alice got %d after the failed reload, want 200 (passwd-a kept)", st)
	}
	log := logBuf.String()
	mistake := fmt.Sprintf(`level=ERROR msg="gowho reload" event=reload file=%s mistake="%s:%d: [plugin.basicauth] (use = \"basicauth\"): unknown key \"realmm\"`,
		path, path, brokenLine)
	summary := fmt.Sprintf(`level=ERROR msg="gowho reload" event=reload file=%s ok=false errors=1 warnings=0 generation=1`, path)
	if !strings.Contains(log, mistake) || !strings.Contains(log, summary) {
		t.Errorf("log:\n%s\nwant the lines\n%s\n%s", log, mistake, summary)
	}
}

// TestServeSIGHUP sends real SIGHUPs to a `who serve` child process: the
// first, after the file changed, reloads it (the realm and the users
// change); the second, with a mistake in the file, is refused and the old
// chain keeps serving; SIGTERM then stops it with exit 0.
func TestServeSIGHUP(t *testing.T) {
	if path := os.Getenv("GOWHO_RELOAD_CHILD"); path != "" {
		os.Exit(Run([]string{"serve", "-config", path, "-addr", "127.0.0.1:0"}, os.Stdin, os.Stdout, os.Stderr))
	}
	t.Parallel()
	dir := reloadDir(t)
	path := writeConfig(t, dir, reloadConfig(1, false))
	cmd, line, lines := startChild(t, "TestServeSIGHUP", "GOWHO_RELOAD_CHILD="+path)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	client := &http.Client{Timeout: time.Minute}
	check := func(when string, wantGen, aliceWants int) {
		t.Helper()
		if _, gen, err := probe(client, url, "", ""); gen != wantGen || err != nil {
			t.Errorf("%s: generation %d (%v), want %d", when, gen, err, wantGen)
		}
		if st, _, _ := probe(client, url, "alice", "wonderland"); st != aliceWants {
			t.Errorf("%s: alice got %d, want %d", when, st, aliceWants)
		}
	}
	check("at start", 1, 200)

	writeConfig(t, dir, reloadConfig(2, false))
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, lines, `msg="gowho reload" event=reload file=`+path+` ok=true errors=0 warnings=0 generation=2`)
	check("after SIGHUP", 2, 401)

	writeConfig(t, dir, reloadConfig(3, true))
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, lines, fmt.Sprintf(`mistake="%s:%d:`, path, brokenLine))
	waitFor(t, lines, `ok=false errors=1 warnings=0 generation=2`)
	check("after a SIGHUP with a broken file", 2, 401)

	_ = cmd.Process.Signal(syscall.SIGTERM)
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
