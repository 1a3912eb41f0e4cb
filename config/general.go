package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/who"
)

// general is the [general] section.
type general struct {
	RequestClassifier string `toml:"request_classifier"`
	ChallengeDecider  string `toml:"challenge_decider"`
	RemoteUserKey     string `toml:"remote_user_key"`
	TrustedUserHeader string `toml:"trusted_user_header"`
	// FailureLogInterval is who.Config.FailureLogInterval ("" or 0: its
	// default; negative: log every failure).
	FailureLogInterval who.Duration `toml:"failure_log_interval"`
	// TrustedProxies lists the CIDR prefixes (or addresses) of the
	// proxies whose forwarding headers are believed
	// (who.Config.TrustedProxies); default none.
	TrustedProxies []string `toml:"trusted_proxies"`

	proxies who.TrustedProxies // TrustedProxies parsed
}

// decodeGeneral decodes [general], reporting every mistake.
func (l *loader) decodeGeneral() {
	g, ok := l.src.tree["general"].(map[string]any)
	if !ok {
		return
	}
	for _, ke := range decodeTable(g, &l.general) {
		l.errAt(append([]string{"general"}, ke.path...), ke.err)
	}
	l.parseTrustedProxies()
}

// parseTrustedProxies parses [general] trusted_proxies, reporting every
// bad entry with the key's line, and warning about every entry so broad
// (who.BroadPrefix: 0.0.0.0/0, ::/0, shorter than /8 or /16) that
// ordinary clients could forge X-Forwarded-For.
func (l *loader) parseTrustedProxies() {
	var ok []string
	for i, s := range l.general.TrustedProxies {
		tp, err := who.ParseTrustedProxies([]string{s})
		if err != nil {
			l.errAt([]string{"general", "trusted_proxies"}, fmt.Errorf("key \"trusted_proxies\": entry %d %q: %w",
				i+1, s, errors.Unwrap(err)))
			continue
		}
		if p := tp.Prefixes()[0]; who.BroadPrefix(p) {
			line := 0
			if l.src != nil {
				line = l.src.line("general", "trusted_proxies")
			}
			l.log.Warn(fmt.Sprintf("%s:%d: [general]: key \"trusted_proxies\": entry %d %q (%s) trusts more than proxies (an IPv4 prefix shorter than /%d or an IPv6 one shorter than /%d): every client in it can send X-Forwarded-For and Forwarded and choose its address, scheme and host; list your proxies' addresses (\"127.0.0.1/32\", \"10.0.0.5\")",
				l.file, line, i+1, s, p, who.MinTrustedBits4, who.MinTrustedBits6))
		}
		ok = append(ok, s)
	}
	l.general.proxies, _ = who.ParseTrustedProxies(ok)
}

// resolved is the section as Chain.General reports it.
func (g general) resolved() General {
	return General{
		RequestClassifier:  or(g.RequestClassifier, "default"),
		ChallengeDecider:   or(g.ChallengeDecider, "default"),
		RemoteUserKey:      g.RemoteUserKey,
		TrustedUserHeader:  g.TrustedUserHeader,
		FailureLogInterval: cmp.Or(g.FailureLogInterval.D(), who.DefaultFailureLogInterval),
		TrustedProxies:     g.proxies,
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// A generalKey is a [general] key that names a function F: "default", a
// plugin implementing an interface with F as a method, or a name
// registered in the Registry.
type generalKey[F any] struct {
	key        string // as in the file: "request_classifier"
	what       string // for "unknown classifier"
	iface      string // for "is not a Classifier"
	def        F      // for "" and "default"
	method     func(plugin any) (F, bool)
	registered func(*who.Registry, string) (F, bool)
	known      func(*who.Registry) []string
}

var classifierKey = generalKey[who.RequestClassifier]{
	key: "request_classifier", what: "classifier", iface: "Classifier", def: who.DefaultClassifier,
	method: func(v any) (who.RequestClassifier, bool) {
		c, ok := v.(who.Classifier)
		if !ok {
			return nil, false
		}
		return c.Classify, true
	},
	registered: (*who.Registry).Classifier,
	known:      (*who.Registry).Classifiers,
}

var deciderKey = generalKey[who.ChallengeDecider]{
	key: "challenge_decider", what: "challenge decider", iface: "Decider", def: who.DefaultDecider,
	method: func(v any) (who.ChallengeDecider, bool) {
		d, ok := v.(who.Decider)
		if !ok {
			return nil, false
		}
		return d.IsChallenge, true
	},
	registered: (*who.Registry).Decider,
	known:      (*who.Registry).Deciders,
}

// resolveGeneral resolves name, the value of [general] k.key: a plugin
// of the file first, then a registered name. A mistake is reported and
// gives the zero F.
func resolveGeneral[F any](l *loader, k generalKey[F], name string) F {
	var none F
	if l.envBad[toml.Key{"general", k.key}.String()] {
		return none
	}
	if name == "" || name == "default" {
		return k.def
	}
	path := []string{"general", k.key}
	if p, ok := l.plugins[name]; ok {
		if f, ok := k.method(p.value); ok {
			return f
		}
		l.errAt(path, fmt.Errorf("key %q: plugin %q (use = %q) is not a %s (it is: %s)",
			k.key, name, p.use, k.iface, who.Implements(p.value)))
		return none
	}
	if l.failed[name] {
		return none
	}
	if f, ok := k.registered(l.reg, name); ok {
		return f
	}
	var plugins []string
	for _, p := range l.order {
		if _, ok := k.method(p.value); ok {
			plugins = append(plugins, p.name)
		}
	}
	l.errAt(path, unknownName(k.key, k.what, name, slices.Concat(k.known(l.reg), plugins)))
	return none
}

func unknownName(key, what, name string, known []string) error {
	if s := suggest.Closest(name, known); s != "" {
		return fmt.Errorf("key %q: unknown %s %q (did you mean %q?)", key, what, name, s)
	}
	return fmt.Errorf("key %q: unknown %s %q (known: %s)", key, what, name, strings.Join(known, ", "))
}

// classifierWords lists the classifications the configured classifier can
// return: the default classifier's, or those a classifier plugin declares
// (who.ClassifierWords); nil when it declares none (a registered
// classifier, or a plugin without the interface), which accepts any word.
func (l *loader) classifierWords() []string {
	name := l.general.RequestClassifier
	if name == "" || name == "default" {
		return who.DefaultClassifierWords()
	}
	if p, ok := l.plugins[name]; ok {
		if cw, ok := p.value.(who.ClassifierWords); ok {
			words, err := safeCall(func() ([]string, error) { return cw.ClassificationWords(), nil })
			if err != nil {
				l.pluginErr(p, "", p.line, err)
				return nil
			}
			return words
		}
	}
	return nil
}

// checkClassifications reports every stage entry naming a classification
// the classifier never returns: the entry would never run ("brwoser").
// Entries of a plugin that is unknown or failed to build are checked too,
// so that its mistake does not hide theirs.
func (l *loader) checkClassifications() {
	words := l.classifierWords()
	if len(words) == 0 {
		return
	}
	name := or(l.general.RequestClassifier, "default")
	for si := range l.stages {
		for _, e := range slices.Concat(l.stages[si], l.unbuilt[si]) {
			for _, c := range e.Classifications {
				if c == who.Unused || slices.Contains(words, c) {
					continue
				}
				hint := ""
				if s := suggest.Closest(c, words); s != "" {
					hint = fmt.Sprintf("did you mean %q? ", s)
				}
				l.errs.add(&Error{File: l.file, Line: e.Line, Section: stageNames[si], Plugin: e.Name,
					Err: tagged(ErrBadEntry, "plugin %q: classification %q is never returned by the request classifier %q, so the entry would never run (%sit returns: %s)",
						e.Name, c, name, hint, strings.Join(words, ", "))})
			}
		}
	}
}
