package config

import (
	"net/http"
	"net/http/httptest"
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
