package audit_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/gowho/gowho/observe/audit"
	"github.com/gowho/gowho/who"
)

// The audit log as an observer of a chain: a failed Basic login and the
// challenge that follows, as text lines (time left out).
func Example() {
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	log := audit.New(audit.Options{Logger: slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))})
	m, err := who.New(who.Config{
		Identifiers:    []who.Entry{{Name: "basic", Plugin: basic{}}},
		Authenticators: []who.Entry{{Name: "users", Plugin: nobody{}}},
		Challengers:    []who.Entry{{Name: "basic", Plugin: basic{}}},
		Observers:      []who.Observer{log},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	r := httptest.NewRequest("GET", "/private?token=x", nil)
	r.SetBasicAuth("mallory", "guess")
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// level=WARN msg="gowho login" event=login client=192.0.2.1 classification=browser outcome=fail identifier=basic plugin="" reason=rejected userid="" login=mallory
	// level=INFO msg="gowho challenge" event=challenge client=192.0.2.1 classification=browser plugin=basic status=401 method=GET path=/private
}

type basic struct{}

func (basic) Identify(r *http.Request) (who.Identity, error) {
	if u, p, ok := r.BasicAuth(); ok {
		return who.Identity{who.KeyLogin: u, who.KeyPassword: p}, nil
	}
	return nil, nil
}

func (basic) Challenge(*http.Request, int, http.Header, http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

type nobody struct{}

func (nobody) Authenticate(*http.Request, who.Identity) (string, error) { return "", nil }
