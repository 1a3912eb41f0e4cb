package whocmd

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
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/internal/origin"
	"github.com/gowho/gowho/internal/reload"
	"github.com/gowho/gowho/who"
)

// runServe runs the demo app behind the chain of a who.toml until SIGINT
// or SIGTERM, reloading the file on SIGHUP; see serveHTTP for how it
// stops and serveReloading for how it reloads.
func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, serverSignals...)
	defer signal.Stop(signals)
	return serveMain(args, signals, stdout, stderr)
}

// serverSignals are the signals a server command handles: SIGINT and
// SIGTERM stop it, SIGHUP reloads its who.toml.
var serverSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// serveFlags holds what `who serve`'s command line sets.
type serveFlags struct {
	config string
	debug  bool
	server serverOptions
}

// newServeFlags returns serve's flag set, its usage written to stderr
// (setUsage: the synopsis, a line naming every flag with its default,
// then each flag's meaning).
func newServeFlags(stderr io.Writer) (*flag.FlagSet, *serveFlags) {
	fs := flag.NewFlagSet("who serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf serveFlags
	fs.StringVar(&sf.config, "config", "", "the who.toml to load (or give it as the argument)")
	fs.BoolVar(&sf.debug, "debug", false, "log every plugin's answer")
	sf.server.register(fs)
	setUsage(fs, stderr, []string{"who serve [flags] FILE", "who serve -config FILE [flags]"},
		"flags: "+serveSynopsis(fs),
		"Runs the demo app (/, /protected, /whoami, /login, /logout) behind the chain of the",
		"who.toml FILE. On SIGINT or SIGTERM it stops accepting, lets running requests finish",
		"(up to -shutdown-timeout), then closes the chain; a second signal stops at once.",
		"On SIGHUP it reloads FILE, checked as `who check` does: when it loads, new requests get",
		"the new chain and the old one closes once its requests end; when not, the old chain",
		"keeps serving and every mistake is logged.")
	return fs, &sf
}

// serveSynopsis lists every flag of fs but -config, with its default:
// "[-addr 127.0.0.1:8080] [-debug] ...".
func serveSynopsis(fs *flag.FlagSet) string {
	var parts []string
	fs.VisitAll(func(f *flag.Flag) {
		switch {
		case f.Name == "config":
		case isBoolFlag(f):
			parts = append(parts, "[-"+f.Name+"]")
		default:
			parts = append(parts, "[-"+f.Name+" "+f.DefValue+"]")
		}
	})
	return strings.Join(parts, " ")
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseServeArgs parses serve's command line as every command's
// (parseArgs, configArg): the who.toml comes as -config FILE or as the one
// argument, and flags may come before or after it
// (`who serve who.toml -debug`). ok is false when serve should exit with
// code (0 after -h, 2 after a mistake, the usage printed).
func parseServeArgs(args []string, stderr io.Writer) (sf *serveFlags, code int, ok bool) {
	fs, sf := newServeFlags(stderr)
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return nil, code, false
	}
	file, _, err := configArg(sf.config, pos, 0)
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who serve", err))
		fs.Usage()
		return nil, 2, false
	}
	sf.config = file
	return sf, 0, true
}

// serveMain is runServe with the signals coming from signals (SIGHUP
// reloads, any other stops).
func serveMain(args []string, signals <-chan os.Signal, stdout, stderr io.Writer) int {
	sf, code, ok := parseServeArgs(args, stderr)
	if !ok {
		return code
	}
	level := slog.LevelInfo
	if sf.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(newMaskingHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
	obs, err := startObservability(sf.server, logger, stdout) // -metrics, -audit
	if err != nil {
		fmt.Fprintf(stderr, "who serve: %v\n", err)
		return 1
	}
	defer func() { _ = obs.Close() }()
	rh, err := newReloadable(sf.config, logger, serveApp, sf.server.shutdownTimeout, obs.observers...)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", sf.server.addr)
	if err != nil {
		_ = rh.Close()
		fmt.Fprintf(stderr, "who serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	return serveReloading(ln, rh, sf.server, signals, logger, stderr)
}

// newReloadable loads file (config.Load with logger) and returns the
// handler serving build's handler for its chain, ready to reload (see
// reload.Handler): every later load is checked as `who check` checks a
// file (config.Load's mistakes, then chainWarnings and checkPlugins,
// logged as warnings); the first is config.Load alone, as `who serve`
// always started. build's error closes the chain and fails the load.
// drain is how long an old chain may keep requests after a reload
// before a line says so (0: reload.DefaultDrainWarning). When logger's
// handler is serve's maskingHandler, it masks from then on with the
// secrets of every chain still open. `who serve` and `who gateway` both
// start this way. Every chain gets obs (startObservability's observers:
// the same across reloads), and each reload is reported to them.
func newReloadable(file string, logger *slog.Logger, build func(*config.Chain) (http.Handler, error), drain time.Duration, obs ...who.Observer) (*reload.Handler, error) {
	loads := 0 // Load is never called concurrently
	load := func(context.Context) (reload.Loaded, error) {
		loads++
		chain, err := config.Load(file, config.Options{Logger: logger, Observers: obs})
		if err != nil {
			if loads > 1 {
				reportReload(obs, file, err)
			}
			return reload.Loaded{}, err
		}
		h, err := build(chain)
		if err != nil {
			_ = chain.Close()
			if loads > 1 {
				reportReload(obs, file, err)
			}
			return reload.Loaded{}, err
		}
		if loads > 1 {
			reportReload(obs, file, nil)
		}
		l := reload.Loaded{Chain: chain, Handler: h}
		if loads > 1 {
			l.Warnings = append(chainWarnings(chain), checkPlugins(chain, checkTimeout)...)
		}
		return l, nil
	}
	rh, err := reload.New(reload.Options{File: file, Load: load, Logger: logger, DrainWarning: drain})
	if err != nil {
		return nil, err
	}
	if mh, ok := logger.Handler().(*maskingHandler); ok {
		mh.reloader.Store(rh) // from now on the files' secrets are masked in the log too
	}
	return rh, nil
}

// serveReloading is serveHTTP for rh, the loop of every server command
// whose chain reloads: a SIGHUP on signals triggers a reload
// (rh.Trigger: one at a time, the SIGHUPs during one coalesced into one
// more), any other signal stops the server as serveHTTP says, and rh is
// closed last.
func serveReloading(ln net.Listener, rh *reload.Handler, o serverOptions, signals <-chan os.Signal,
	logger *slog.Logger, stderr io.Writer) int {
	stop := make(chan os.Signal, 2)
	done := make(chan struct{})
	defer close(done)
	go func() {
		stopping := false // once stopping, a SIGHUP is ignored
		for {
			select {
			case <-done:
				return
			case sig := <-signals:
				if sig == syscall.SIGHUP {
					if !stopping {
						rh.Trigger()
					}
					continue
				}
				stopping = true
				select {
				case stop <- sig:
				case <-done:
					return
				}
			}
		}
	}()
	return serveHTTP(ln, rh, rh.Close, o, stop, logger, stderr)
}

// serverOptions are the listening address and the timeouts every server
// command of who takes (register adds their flags).
type serverOptions struct {
	addr              string
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	maxHeaderBytes    int
	metrics           string // -metrics: the metrics listener's address ("" none)
	audit             bool   // -audit: write the audit log
}

// Defaults of the server flags. A request (headers and body) must arrive
// within readTimeout and its response be written within writeTimeout; a
// kept-alive connection is closed after idleTimeout without a request.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultWriteTimeout      = 60 * time.Second
	defaultIdleTimeout       = 120 * time.Second
	defaultShutdownTimeout   = 30 * time.Second
	defaultMaxHeaderBytes    = 64 << 10
)

// register adds -addr, the timeout flags, -max-header-bytes, -metrics and
// -audit to fs.
func (o *serverOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "time a client has to send a request's headers")
	fs.DurationVar(&o.readTimeout, "read-timeout", defaultReadTimeout, "time a client has to send a whole request, headers and body")
	fs.DurationVar(&o.writeTimeout, "write-timeout", defaultWriteTimeout, "time to write a response, from the end of the request's headers")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", defaultIdleTimeout, "how long a kept-alive connection may wait for its next request")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGINT/SIGTERM, how long running requests may take to finish (0: no limit)")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", defaultMaxHeaderBytes, "largest request header block accepted, in bytes")
	o.registerObservability(fs)
}

// newHTTPServer is the http.Server of a server command: handler with o's
// timeouts (a zero or negative flag means none, as in net/http).
func newHTTPServer(handler http.Handler, o serverOptions, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    o.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serveHTTP is the serve loop of every server command: it serves handler
// on ln until a signal arrives on stop. Then it stops accepting and waits
// for the requests in flight to finish, up to o.shutdownTimeout; a second
// signal, or the grace period running out, closes every connection at
// once. closeChain runs last, after the requests (or after cutting them),
// so that no plugin is closed under a running request. It returns the
// exit status: 0 after a clean drain, 1 when requests were cut or the
// listener failed (with a message on stderr).
func serveHTTP(ln net.Listener, handler http.Handler, closeChain func() error, o serverOptions,
	stop <-chan os.Signal, logger *slog.Logger, stderr io.Writer) (code int) {
	var inFlight atomic.Int64
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		handler.ServeHTTP(w, r)
	})
	srv := newHTTPServer(counted, o, logger)
	defer func() {
		if err := closeChain(); err != nil {
			fmt.Fprintf(stderr, "who serve: closing the chain: %v\n", err)
			code = 1
		}
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var sig os.Signal
	select {
	case err := <-served: // the listener failed: Serve only returns early on errors
		fmt.Fprintf(stderr, "who serve: %v\n", err)
		return 1
	case sig = <-stop:
	}
	limit := "no time limit"
	if o.shutdownTimeout > 0 {
		limit = "up to " + o.shutdownTimeout.String()
	}
	fmt.Fprintf(stderr, "who serve: %v: finishing %d running request(s), %s (signal again to stop now)\n",
		sig, inFlight.Load(), limit)
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if o.shutdownTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.shutdownTimeout)
	}
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- srv.Shutdown(ctx) }()
	select {
	case err := <-drained:
		if err == nil {
			<-served // ErrServerClosed
			return 0
		}
		n := inFlight.Load()
		_ = srv.Close()
		fmt.Fprintf(stderr, "who serve: shutdown: %d request(s) still running after -shutdown-timeout %s; cut them\n", n, o.shutdownTimeout)
	case sig = <-stop:
		n := inFlight.Load()
		_ = srv.Close()
		fmt.Fprintf(stderr, "who serve: second %v: stopping now, %d running request(s) cut\n", sig, n)
	}
	return 1
}

// newServer loads the chain of cfgPath and returns the demo app behind it,
// and the function that closes the chain's plugins. Every request that is
// not GET, HEAD or OPTIONS and comes from another origin (by Fetch
// Metadata or Origin, http.CrossOriginProtection) is refused with 403
// before it reaches the chain: the demo's POST /login and POST /logout,
// and the POST endpoints of the chain's plugins.
func newServer(cfgPath string, logger *slog.Logger) (http.Handler, func() error, error) {
	rh, err := newReloadable(cfgPath, logger, serveApp, 0)
	if err != nil {
		return nil, nil, err
	}
	return rh, rh.Close, nil
}

// serveApp is `who serve`'s handler for chain: the demo app behind it,
// behind http.CrossOriginProtection (see newServer).
func serveApp(chain *config.Chain) (http.Handler, error) {
	return http.NewCrossOriginProtection().Handler(chain.Handler(demoApp())), nil
}

// maxLoginBody bounds the body of POST /login and POST /logout: a login
// form is a few hundred bytes.
const maxLoginBody = 16 << 10

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
		showLogin(w, r, http.StatusOK, r.URL.Query().Get("came_from"), "", "")
	})
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		if origin.CrossSite(r) {
			showLogout(w) // a cross-site link or image never logs out
			return
		}
		logout(w, r)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		// Cross-origin POSTs never get here (newServer).
		r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
		_, _ = io.Copy(io.Discard, r.Body)
		logout(w, r)
	})
	return mux
}

func logout(w http.ResponseWriter, r *http.Request) {
	who.APIFrom(r).WriteLogout(w, "")
	http.Redirect(w, r, "/", http.StatusFound)
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
	}{res.UserID, res.Identifier, res.Authenticator, res.Identity.Public().Masked(who.APIFrom(r).SecretKeys())})
}

func login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			status = http.StatusRequestEntityTooLarge
		}
		showLogin(w, r, status, "", "", "could not read the form")
		return
	}
	cameFrom := origin.SafeRedirect(r, r.PostForm.Get("came_from"), nil, "/")
	creds := who.Identity{who.KeyLogin: r.PostForm.Get("login"), who.KeyPassword: r.PostForm.Get("password")}
	if who.APIFrom(r).WriteLogin(w, creds, "") == nil {
		showLogin(w, r, http.StatusOK, cameFrom, creds.Str(who.KeyLogin), "bad login")
		return
	}
	http.Redirect(w, r, cameFrom, http.StatusFound)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Log in</title></head>
<body>
<h1>Log in</h1>
{{if .Message}}<p class="error" id="message" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="came_from" value="{{.CameFrom}}">
<p><label>Login <input name="login" id="login" value="{{.Login}}" autocomplete="username" autofocus></label></p>
<p><label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit" id="submit">Log in</button></p>
</form>
</body></html>
`))

// showLogin answers status with the login form, login filled in (after
// a failed login) and cameFrom kept when it is safe.
func showLogin(w http.ResponseWriter, r *http.Request, status int, cameFrom, login, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, struct{ CameFrom, Login, Message string }{origin.SafeRedirect(r, cameFrom, nil, "/"), login, message})
}

var logoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Log out</title></head>
<body>
<form method="post" action="/logout">
<p><button type="submit" id="logout">Log out</button></p>
</form>
</body></html>
`))

// showLogout is the answer to a cross-site GET /logout: a button that
// posts to /logout from this site.
func showLogout(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = logoutPage.Execute(w, nil)
}

// maskingHandler masks secrets in the records of the next handler: the
// value of every attribute whose key names a secret (secretName: a
// secret-named key, a cookie, a session or an authorization) unless it is
// a number, bool, duration or time (plainKind), URL
// passwords in every string and error, and, once the chain is loaded, the
// secrets of its who.toml (config.Chain.Mask).
type maskingHandler struct {
	next  slog.Handler
	chain *atomic.Pointer[config.Chain] // shared by WithAttrs and WithGroup copies
	// reloader, when set, masks instead of chain: with the secrets of
	// every chain of a reloading server still open (shared too).
	reloader *atomic.Pointer[reload.Handler]
}

func newMaskingHandler(next slog.Handler) *maskingHandler {
	return &maskingHandler{next: next, chain: new(atomic.Pointer[config.Chain]), reloader: new(atomic.Pointer[reload.Handler])}
}

// Enabled implements slog.Handler.
func (h *maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *maskingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = h.maskAttr(a)
	}
	return &maskingHandler{next: h.next.WithAttrs(masked), chain: h.chain, reloader: h.reloader}
}

// WithGroup implements slog.Handler.
func (h *maskingHandler) WithGroup(name string) slog.Handler {
	return &maskingHandler{next: h.next.WithGroup(name), chain: h.chain, reloader: h.reloader}
}

func (h *maskingHandler) mask(s string) string {
	if rh := h.reloader.Load(); rh != nil {
		return rh.Mask(s)
	}
	if c := h.chain.Load(); c != nil {
		return c.Mask(s)
	}
	return config.MaskURLPasswords(s)
}

func (h *maskingHandler) maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if secretName(a.Key) && !plainKind(v.Kind()) {
		return slog.String(a.Key, config.Mask)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.mask(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		masked := make([]any, len(attrs))
		for i, g := range attrs {
			masked[i] = h.maskAttr(g)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.mask(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.mask(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// plainKind reports whether a value of kind k is a number, a bool, a
// duration or a time: a fact about a secret (authtkt's short_secrets=1,
// allow_weak_secret=false), never the secret itself, so it is logged even
// under a secret-sounding key.
func plainKind(k slog.Kind) bool {
	switch k {
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return true
	}
	return false
}
