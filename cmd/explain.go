package whocmd

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/gateway"
	"github.com/gowho/gowho/who"
)

// headerFlags collects repeated -H 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error {
	if !strings.Contains(v, ":") {
		return fmt.Errorf("header %q: write it as 'Name: value'", v)
	}
	*h = append(*h, v)
	return nil
}

// runExplain runs one request through the chain without the app and
// prints what each plugin decided.
func runExplain(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the who.toml to load (or give it as the first argument)")
	status := fs.Int("status", 200, "the status the application answers with (401 shows the challenge)")
	var headers headerFlags
	fs.Var(&headers, "H", "a request header 'Name: value' (repeatable)")
	setUsage(fs, stderr, []string{
		"who explain -config FILE [-H 'Name: value']... [-status 401] METHOD URL",
		"who explain [-H 'Name: value']... [-status 401] FILE METHOD URL",
	}, "Runs one request through the chain and prints each plugin's answer. Passwords, secrets and",
		"the identity keys the chain's plugins declare secret (who.SecretKeyer) are masked.")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	file, rest, err := configArg(*cfgPath, pos, 2)
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who explain", err))
		fs.Usage()
		return 2
	}
	method, target := strings.ToUpper(rest[0]), rest[1]
	if *status < 200 || *status > 599 {
		// The recorder panics on a status outside 100-999; 1xx is no answer.
		fmt.Fprintf(stderr, "who explain: -status %d: want the application's final status, 200 to 599 (401 shows the challenge)\n", *status)
		return 2
	}
	if !isToken(method) {
		fmt.Fprintf(stderr, "who explain: method %q: want an HTTP method such as GET or POST (letters, digits and !#$%%&'*+-.^_`|~)\n", method)
		return 2
	}
	if !strings.Contains(target, "://") {
		target = "http://127.0.0.1" + "/" + strings.TrimPrefix(target, "/")
	}
	chain, err := config.Load(file, config.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	defer chain.Close()

	req, err := newExplainRequest(method, target, headers)
	if err != nil {
		fmt.Fprintf(stderr, "who explain: %s\n", chain.Mask(err.Error())) // the target may hold a URL password
		return 2
	}
	p := &explainPrinter{w: stdout, mask: chain.Mask, secretKeys: chainSecretKeys(chain)}
	fmt.Fprintf(stdout, "request: %s %s\n", method, chain.Mask(target))
	for _, h := range headers {
		fmt.Fprintf(stdout, "  %s\n", maskHeaderLine(h))
	}
	req = req.WithContext(who.WithTrace(req.Context(), p.trace()))
	gw, _ := chain.Section("gateway")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.section("application")
		if gc, ok := gw.(*gateway.Config); ok {
			// The rule `who gateway` would apply to this request.
			m := gc.MatchRequest(r)
			fmt.Fprintf(stdout, "  gateway: %s: %s\n", m, m.Verdict(who.ResultFrom(r.Context()), gc.GroupsKey))
		}
		fmt.Fprintf(stdout, "  answers %d\n", *status)
		w.WriteHeader(*status)
	})
	rec := httptest.NewRecorder()
	chain.Handler(app).ServeHTTP(rec, req)
	p.section("response")
	fmt.Fprintf(stdout, "  status %d\n", rec.Code)
	printHeaders(stdout, "  ", rec.Header())
	return 0
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), as
// a method must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

func newExplainRequest(method, target string, headers []string) (req *http.Request, err error) {
	defer func() {
		if recover() != nil { // httptest.NewRequest panics on a bad target
			req, err = nil, fmt.Errorf("bad request target %q: give a URL (http://host/path?query) or a path (/path)", target)
		}
	}()
	req = httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req, nil
}

// explainPrinter prints trace events grouped by step.
type explainPrinter struct {
	w          io.Writer
	mask       func(string) string // the chain's secrets and URL passwords
	secretKeys []string            // the identity keys the chain's plugins declare secret
	current    string
}

// chainSecretKeys returns the identity keys every plugin of the chain
// declares secret (who.SecretKeyer), KeyPassword first.
func chainSecretKeys(c *config.Chain) []string {
	infos := c.Plugins()
	plugins := make([]any, len(infos))
	for i, p := range infos {
		plugins[i] = p.Plugin
	}
	return who.SecretKeysOf(plugins...)
}

// errText is err's message with the chain's secrets masked.
func (p *explainPrinter) errText(err error) string { return p.mask(err.Error()) }

func (p *explainPrinter) section(name string) {
	if p.current != name {
		fmt.Fprintf(p.w, "%s:\n", name)
		p.current = name
	}
}

func (p *explainPrinter) trace() *who.Trace {
	w := p.w
	return &who.Trace{
		Classified: func(c string) {
			fmt.Fprintf(w, "classification: %s\n", c)
		},
		Identified: func(name string, id who.Identity, err error) {
			p.section("identifiers")
			switch {
			case err != nil:
				fmt.Fprintf(w, "  %s: error: %s\n", name, p.errText(err))
			case id == nil:
				fmt.Fprintf(w, "  %s: nothing found\n", name)
			default:
				fmt.Fprintf(w, "  %s: found %s\n", name, formatIdentity(id, p.secretKeys...))
			}
		},
		Authenticated: func(a, i string, rank [2]int, uid string, err error) {
			p.section("authenticators")
			switch {
			case err != nil:
				fmt.Fprintf(w, "  %s × %s (rank %d,%d): error: %s\n", a, i, rank[0], rank[1], p.errText(err))
			case uid == "":
				fmt.Fprintf(w, "  %s × %s (rank %d,%d): no\n", a, i, rank[0], rank[1])
			default:
				fmt.Fprintf(w, "  %s × %s (rank %d,%d): userid %q\n", a, i, rank[0], rank[1], uid)
			}
		},
		Won: func(res *who.Result) {
			p.current = ""
			if res == nil {
				fmt.Fprintln(w, "winner: none (anonymous)")
				return
			}
			fmt.Fprintf(w, "winner: userid %q (identifier %s, authenticator %s)\n", res.UserID, res.Identifier, res.Authenticator)
		},
		Metadata: func(name string, id who.Identity, err error) {
			p.section("metadata")
			if err != nil {
				fmt.Fprintf(w, "  %s: error: %s\n", name, p.errText(err))
				return
			}
			fmt.Fprintf(w, "  %s: identity now %s\n", name, formatIdentity(id, p.secretKeys...))
		},
		Decided: func(status int, challenge bool) {
			p.section("decision")
			if challenge {
				fmt.Fprintf(w, "  status %d is a challenge\n", status)
			} else {
				fmt.Fprintf(w, "  status %d is not a challenge\n", status)
			}
		},
		Challenged: func(name string, status int, forget http.Header) {
			p.section("decision")
			if name == "" {
				fmt.Fprintln(w, "  no challenger answered: the client gets a 500")
			} else {
				fmt.Fprintf(w, "  challenger %s answers\n", name)
			}
			if len(forget) > 0 {
				fmt.Fprintln(w, "  forget headers:")
				printHeaders(w, "    ", forget)
			}
		},
		Remembered: func(name string, h http.Header) {
			p.section("decision")
			if len(h) == 0 {
				fmt.Fprintf(w, "  %s remembers nothing new\n", name)
				return
			}
			fmt.Fprintf(w, "  %s remembers:\n", name)
			printHeaders(w, "    ", h)
		},
	}
}

// formatIdentity prints an identity with sorted keys and masks the
// password, every key of secretKeys (those the chain's plugins declare,
// who.SecretKeyer), and every key whose name says it is a secret
// (config.SecretKey), a cookie or a session.
func formatIdentity(id who.Identity, secretKeys ...string) string {
	keys := make([]string, 0, len(id))
	for k := range id {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		v := id[k]
		if k == who.KeyPassword || slices.Contains(secretKeys, k) || secretName(k) {
			v = config.Mask
		}
		fmt.Fprintf(&b, "%s: %#v", k, v)
	}
	b.WriteByte('}')
	return b.String()
}

func printHeaders(w io.Writer, indent string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s\n", indent, maskHeaderLine(k+": "+v))
		}
	}
}

// secretName reports whether an identity key or a log attribute named
// name holds a secret: config.SecretKey, a cookie, session or
// authorization value, or a name whose last dotted part is "key" (a
// plugin's "apikey.key"). who explain and who serve's log mask the same
// keys.
func secretName(name string) bool {
	n := strings.ToLower(name)
	last := n[strings.LastIndexByte(n, '.')+1:]
	return config.SecretKey(n) || last == "key" || strings.Contains(n, "cookie") || strings.Contains(n, "session") || strings.Contains(n, "authorization")
}

// secretHeader reports whether the header name carries a credential:
// Cookie, Set-Cookie, Authorization, Proxy-Authorization, and every name
// containing key, token, auth, secret, password, session or cookie
// (X-API-Key, X-Auth-Token). WWW-Authenticate and Proxy-Authenticate, the
// challenges, are not credentials.
func secretHeader(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "www-authenticate" || n == "proxy-authenticate" {
		return false
	}
	for _, w := range []string{"cookie", "auth", "key", "token", "secret", "password", "passw", "session", "csrf"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return config.SecretKey(n)
}

// maskHeaderLine hides the credential of a "Name: value" header line:
// the value of every cookie of Cookie and Set-Cookie (Set-Cookie's
// attributes stay), the credentials after the scheme of Authorization and
// Proxy-Authorization, and the whole value of any other secretHeader.
// Other values have their URL passwords masked.
func maskHeaderLine(line string) string {
	rawName, value, _ := strings.Cut(line, ":")
	name := strings.TrimSpace(rawName)
	value = strings.TrimSpace(value)
	if !secretHeader(name) {
		return line[:len(rawName)] + ":" + config.MaskURLPasswords(line[len(rawName)+1:])
	}
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization":
		scheme, _, _ := strings.Cut(value, " ")
		return name + ": " + scheme + " " + config.Mask
	case "cookie":
		parts := strings.Split(value, ";")
		for i, p := range parts {
			parts[i] = maskCookiePair(strings.TrimSpace(p))
		}
		return name + ": " + strings.Join(parts, "; ")
	case "set-cookie":
		pair, attrs, hasAttrs := strings.Cut(value, ";")
		out := name + ": " + maskCookiePair(strings.TrimSpace(pair))
		if hasAttrs {
			out += ";" + attrs
		}
		return out
	}
	return name + ": " + config.Mask
}

// maskCookiePair masks the value of "name=value"; an empty value (a
// cookie being deleted) stays visible.
func maskCookiePair(p string) string {
	n, v, ok := strings.Cut(p, "=")
	if !ok {
		return config.Mask
	}
	if v == "" || v == `""` {
		return p
	}
	return n + "=" + config.Mask
}
