package config

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

// classOf sends a request through the chain and returns its
// classification and whether a 418 became a challenge.
func classOf(t *testing.T, c *Chain, method string) (string, bool) {
	t.Helper()
	var class string
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class = who.APIFrom(r).Classification()
		w.WriteHeader(http.StatusTeapot)
	}))
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, httptest.NewRequest(method, "/", nil))
	return class, rw.Header().Get("X-Challenger") != ""
}

func TestClassifierAndDecider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		general    string
		class      string // for a GET
		teapotIs   bool   // a 418 is a challenge
		err        string
		classifier string // Chain.General().RequestClassifier; "" here: "default"
		decider    string // Chain.General().ChallengeDecider; "" here: "default"
	}{
		{name: "defaults", class: "browser"},
		{name: "default by name", general: `request_classifier = "default"` + "\n" + `challenge_decider = "default"`, class: "browser"},
		{name: "registered classifier", general: `request_classifier = "always-dav"`, class: "dav", classifier: "always-dav"},
		{name: "classifier plugin", general: `request_classifier = "cls"`, class: "custom", classifier: "cls"},
		{name: "registered decider", general: `challenge_decider = "teapot"`, class: "browser", teapotIs: true, decider: "teapot"},
		{name: "passthrough", general: `challenge_decider = "passthrough"`, class: "browser", decider: "passthrough"},
		{name: "decider plugin", general: `challenge_decider = "dec"`, class: "browser", teapotIs: true, decider: "dec"},
		{name: "unknown classifier", general: `request_classifier = "always-dv"`,
			err: `who.toml:3: [general]: key "request_classifier": unknown classifier "always-dv" (did you mean "always-dav"?)`},
		{name: "unknown classifier far", general: `request_classifier = "zzzzzzzzzzzzzzz"`,
			err: `who.toml:3: [general]: key "request_classifier": unknown classifier "zzzzzzzzzzzzzzz" (known: always-dav, default, cls)`},
		{name: "unknown decider", general: `challenge_decider = "teapto"`,
			err: `who.toml:3: [general]: key "challenge_decider": unknown challenge decider "teapto" (did you mean "teapot"?)`},
		{name: "plugin is not a classifier", general: `request_classifier = "dec"`,
			err: `who.toml:3: [general]: key "request_classifier": plugin "dec" (use = "decider") is not a Classifier (it is: Decider)`},
		{name: "plugin is not a decider", general: `challenge_decider = "cls"`,
			err: `who.toml:3: [general]: key "challenge_decider": plugin "cls" (use = "classifier") is not a Decider (it is: Classifier)`},
		{name: "wrong type", general: `challenge_decider = 401`,
			err: `who.toml:3: [general]: key "challenge_decider" must be a string, not an integer (401)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "\n[general]\n" + tt.general + `
[plugin.cls]
use = "classifier"
class = "custom"
[plugin.dec]
use = "decider"
[plugin.ch]
use = "chall"
[challengers]
plugins = ["ch"]
`
			c, _, err := load(t, src, nil)
			if tt.err != "" {
				if diff := cmp.Diff([]string{tt.err}, errLines(err)); diff != "" {
					t.Fatalf("errors (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			class, challenged := classOf(t, c, http.MethodGet)
			if class != tt.class || challenged != tt.teapotIs {
				t.Errorf("classification %q, 418 challenged %v; want %q, %v", class, challenged, tt.class, tt.teapotIs)
			}
			want := General{RequestClassifier: or(tt.classifier, "default"), ChallengeDecider: or(tt.decider, "default"),
				FailureLogInterval: who.DefaultFailureLogInterval}
			if got := c.General(); got != want {
				t.Errorf("General() = %+v, want %+v", got, want)
			}
		})
	}
}

// TestTrustedProxies: [general] trusted_proxies is parsed into the
// middleware's who.Config.TrustedProxies and reported by General; every
// bad entry is an error naming the file, line, key and entry; unset, no
// proxy is trusted.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	const chain = `
[plugin.ch]
use = "chall"
[challengers]
plugins = ["ch"]
`
	originOf := func(c *Chain, remote string) who.Origin {
		var o who.Origin
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { o = who.RequestOrigin(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-Proto", "https")
		h.ServeHTTP(httptest.NewRecorder(), r)
		return o
	}
	c, _ := mustLoad(t, "[general]\ntrusted_proxies = [\"127.0.0.1/32\", \"::1\", \"10.0.0.0/8\"]\n"+chain, nil)
	if got := c.General().TrustedProxies.String(); got != "127.0.0.1/32, ::1/128, 10.0.0.0/8" {
		t.Errorf("General().TrustedProxies = %q", got)
	}
	if o := originOf(c, "10.1.2.3:5000"); o.Scheme != "https" || !o.Proxied {
		t.Errorf("from a listed proxy: %+v, want https, proxied", o)
	}
	if o := originOf(c, "192.0.2.1:5000"); o.Scheme != "http" || o.Proxied {
		t.Errorf("from another peer: %+v, want http, not proxied", o)
	}
	c, _ = mustLoad(t, chain, nil)
	if got := c.General(); got.TrustedProxies != (who.TrustedProxies{}) {
		t.Errorf("unset: General().TrustedProxies = %q, want none", got.TrustedProxies)
	}
	if o := originOf(c, "127.0.0.1:5000"); o.Scheme != "http" || o.Proxied {
		t.Errorf("unset, from 127.0.0.1: %+v, want http, not proxied", o)
	}
	_, _, err := load(t, "\n[general]\ntrusted_proxies = [\"127.0.0.1/32\", \"localhost\", \"10.0.0.0/40\"]\n"+chain, nil)
	want := []string{
		`who.toml:3: [general]: key "trusted_proxies": entry 2 "localhost": not an IP address or a CIDR prefix such as "127.0.0.1/32" or "::1/128"`,
		`who.toml:3: [general]: key "trusted_proxies": entry 3 "10.0.0.0/40": not a CIDR prefix such as "127.0.0.1/32" or "::1/128"`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// Entries so broad that ordinary clients are trusted are warned
	// about, naming file, line, key and entry; narrow ones are not.
	var logs strings.Builder
	_, err = Parse("who.toml", []byte("\n\n[general]\ntrusted_proxies = [\"0.0.0.0/0\", \"::/0\", \"10.0.0.0/8\", \"10.0.0.0/7\", \"2001:db8::/32\", \"2000::/3\", \"::ffff:0.0.0.0/96\", \"127.0.0.1\"]\n"+chain),
		Options{Registry: testRegistry(&recorder{}), LookupEnv: env(), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime}))})
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "trusted_proxies") {
			warned = append(warned, line)
		}
	}
	wantWarn := []string{`who.toml:4: [general]: key \"trusted_proxies\": entry 1 \"0.0.0.0/0\" (0.0.0.0/0) trusts more than proxies`,
		`entry 2 \"::/0\" (::/0)`, `entry 4 \"10.0.0.0/7\" (10.0.0.0/7)`, `entry 6 \"2000::/3\" (2000::/3)`, `entry 7 \"::ffff:0.0.0.0/96\" (0.0.0.0/0)`}
	if len(warned) != len(wantWarn) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(warned, "\n"), len(wantWarn))
	}
	for i, w := range wantWarn {
		if !strings.Contains(warned[i], w) || !strings.Contains(warned[i], "X-Forwarded-For") {
			t.Errorf("warning %d: %s\nwant it to hold %s", i+1, warned[i], w)
		}
	}
	_, _, err = load(t, "[general]\ntrusted_proxies = \"127.0.0.1\"\n"+chain, nil)
	if err == nil || !strings.Contains(err.Error(), "trusted_proxies") {
		t.Errorf("a string instead of a list: err = %v", err)
	}
}

// dropTime drops the time attribute, for comparable log lines.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
