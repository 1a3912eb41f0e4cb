package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/who"
)

// runServe runs the demo app behind the chain of a who.toml until SIGINT
// or SIGTERM.
func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntil(ctx, args, stdout, stderr)
}

// serveUntil is runServe until ctx is done.
func serveUntil(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the who.toml to load (required)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	debug := fs.Bool("debug", false, "log every plugin's answer")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: who serve -config FILE [-addr 127.0.0.1:8080]")
		fmt.Fprintln(stderr, "Runs the demo app (/, /protected, /whoami, /login, /logout) behind the configured chain.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	handler, closeChain, err := newServer(*cfgPath, logger)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	defer closeChain()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "who serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "who serve: %v\n", err)
		return 1
	}
	return 0
}

// newServer loads the chain of cfgPath and returns the demo app behind it,
// and the function that closes the chain's plugins.
func newServer(cfgPath string, logger *slog.Logger) (http.Handler, func() error, error) {
	chain, err := config.Load(cfgPath, config.Options{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return chain.Handler(demoApp()), chain.Close, nil
}

// demoApp is the application `who serve` runs behind the chain.
func demoApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		user := who.UserID(r.Context())
		if user == "" {
			user = "anonymous"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "hello, %s\n", user)
	})
	mux.HandleFunc("GET /protected", func(w http.ResponseWriter, r *http.Request) {
		user := who.UserID(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if user == "" {
			w.Header().Set("X-Authorization-Failure-Reason", "login required")
			w.WriteHeader(http.StatusUnauthorized) // the chain challenges
			fmt.Fprintln(w, "login required")
			return
		}
		fmt.Fprintf(w, "protected: %s\n", user)
	})
	mux.HandleFunc("GET /whoami", whoami)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		showLogin(w, r.URL.Query().Get("came_from"), "")
	})
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		addHeaders(w.Header(), who.APIFrom(r).Logout(""))
		http.Redirect(w, r, "/", http.StatusFound)
	})
	return mux
}

func whoami(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	res := who.ResultFrom(r.Context())
	if res == nil {
		_, _ = io.WriteString(w, `{"userid":null}`+"\n")
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		UserID        string       `json:"userid"`
		Identifier    string       `json:"identifier"`
		Authenticator string       `json:"authenticator"`
		Identity      who.Identity `json:"identity"`
	}{res.UserID, res.Identifier, res.Authenticator, res.Identity.Public()})
}

func login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		showLogin(w, "", "could not read the form")
		return
	}
	cameFrom := safeRedirect(r.PostForm.Get("came_from"))
	creds := who.Identity{who.KeyLogin: r.PostForm.Get("login"), who.KeyPassword: r.PostForm.Get("password")}
	res, headers := who.APIFrom(r).Login(creds, "")
	addHeaders(w.Header(), headers)
	if res == nil {
		showLogin(w, cameFrom, "bad login")
		return
	}
	http.Redirect(w, r, cameFrom, http.StatusFound)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Log in</title></head>
<body>
<h1>Log in</h1>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="came_from" value="{{.CameFrom}}">
<p><label>Login <input name="login" autocomplete="username" autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Log in</button></p>
</form>
</body></html>
`))

func showLogin(w http.ResponseWriter, cameFrom, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = loginPage.Execute(w, struct{ CameFrom, Message string }{safeRedirect(cameFrom), message})
}

// safeRedirect returns target when it is a path on this site, else "/":
// no scheme, no host, no "//" or "/\" (which browsers read as a host), no
// control characters.
func safeRedirect(target string) string {
	if target == "" || target[0] != '/' || strings.ContainsFunc(target, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	if len(target) > 1 && (target[1] == '/' || target[1] == '\\') {
		return "/"
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return target
}

func addHeaders(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}
