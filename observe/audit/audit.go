// Package audit writes gowho's audit log: one structured slog line per
// login (success and failure), logout and challenge, in a stable format
// that docs/operations.md ("Audit log") documents. The throttle's ban
// lines (msg="gowho ban", plugins/throttle) and the reload lines of `who
// serve` (msg="gowho reload") belong to the same log and follow the same
// conventions; this package does not write them.
//
// It is a who.Observer, and needs nothing beyond the standard library:
//
//	a := audit.New(audit.Options{Logger: slog.New(slog.NewJSONHandler(f, nil))})
//	chain, err := config.Load("who.toml", config.Options{Observers: []who.Observer{a}})
//
// Every line has msg "gowho EVENT" and, first, event=EVENT; then client
// (the client address as who.RequestOrigin resolves it, "" when unknown)
// and classification; then the fields of the event; the values a client
// chooses (login, path) come last, so that a filter anchored on the
// fields before them cannot be fooled by a login that spells
// "client=...". A line never holds a password, a token or a cookie: an
// Event carries none.
package audit

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gowho/gowho/who"
)

// Messages of the lines this package writes.
const (
	LoginMessage     = "gowho login"
	LogoutMessage    = "gowho logout"
	ChallengeMessage = "gowho challenge"
)

// Options configure the audit log.
type Options struct {
	// Logger receives the lines; nil: slog.Default(). Successful logins,
	// logouts and challenges are INFO, failed logins WARN.
	Logger *slog.Logger
	// NoChallenges leaves challenges out (one line per anonymous request
	// to a protected page can be most of the log).
	NoChallenges bool
}

// Log is a who.Observer that writes the audit log. Build it with New; it
// is safe for concurrent use.
type Log struct {
	log          *slog.Logger
	noChallenges bool
}

// New returns the audit log.
func New(o Options) *Log {
	l := &Log{log: o.Logger, noChallenges: o.NoChallenges}
	if l.log == nil {
		l.log = slog.Default()
	}
	return l
}

// Start implements who.Observer: the audit log adds nothing to the
// context.
func (l *Log) Start(ctx context.Context, _ *http.Request) context.Context { return ctx }

// Observe implements who.Observer.
func (l *Log) Observe(ctx context.Context, e who.Event) {
	switch e.Kind {
	case who.EventLogin:
		level := slog.LevelInfo
		if e.Outcome != who.OutcomeOK {
			level = slog.LevelWarn
		}
		if !l.log.Enabled(ctx, level) {
			return
		}
		attrs := l.head("login", e)
		attrs = append(attrs,
			slog.String("outcome", e.Outcome),
			slog.String("identifier", e.Identifier),
			slog.String("plugin", e.Plugin),
			slog.String("reason", e.Reason),
			slog.String("userid", e.UserID),
			slog.String("login", e.Login),
		)
		l.log.LogAttrs(ctx, level, LoginMessage, attrs...)
	case who.EventLogout:
		if !l.log.Enabled(ctx, slog.LevelInfo) {
			return
		}
		attrs := l.head("logout", e)
		attrs = append(attrs, slog.String("identifier", e.Identifier), slog.String("userid", e.UserID))
		l.log.LogAttrs(ctx, slog.LevelInfo, LogoutMessage, attrs...)
	case who.EventChallenge:
		if l.noChallenges || !l.log.Enabled(ctx, slog.LevelInfo) {
			return
		}
		attrs := l.head("challenge", e)
		method, path := "", ""
		if e.Request != nil {
			// The escaped path as sent, without the query (which may hold
			// a token); a method outside the standard ones is "_OTHER".
			method, path = knownMethod(e.Request.Method), e.Request.URL.EscapedPath()
		}
		attrs = append(attrs, slog.String("plugin", e.Plugin), slog.Int("status", e.Status),
			slog.String("method", method), slog.String("path", path))
		l.log.LogAttrs(ctx, slog.LevelInfo, ChallengeMessage, attrs...)
	}
}

// head returns the attributes every line starts with: event, client,
// classification.
func (l *Log) head(event string, e who.Event) []slog.Attr {
	client := ""
	if e.Request != nil {
		if a := who.RequestOrigin(e.Request).Client; a.IsValid() {
			client = a.String()
		}
	}
	attrs := make([]slog.Attr, 0, 10)
	return append(attrs, slog.String("event", event), slog.String("client", client),
		slog.String("classification", e.Classification))
}

func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

var _ who.Observer = (*Log)(nil)
