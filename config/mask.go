package config

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Mask is what a masked secret prints as.
const Mask = "********"

// quotedMask is strconv.Quote(Mask).
const quotedMask = `"` + Mask + `"`

// urlPassword matches the user info of a URL with a password:
// "scheme://user:password@".
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:"']*:)([^/?#@\s"']*)@`)

// MaskURLPasswords returns s with the password of every URL in it
// replaced by "xxxxx", as url.URL.Redacted prints it:
// "redis://app:xxxxx@10.0.0.7:6379".
func MaskURLPasswords(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPassword.ReplaceAllString(s, "${1}xxxxx@")
}

// SecretKey reports whether an option or header named name holds a
// secret: its name (the last dotted part, letter case and "-" or "_"
// alike) contains secret, password, passwd, credential, apikey, api_key
// or private_key, ends in token or contains token_ (access_token,
// token_value; not tokens), or is or ends in pass or pw
// after a "_" (bind_pass; not passthrough). Names ending in "file"
// (secretfile) name a file, not a secret.
func SecretKey(name string) bool {
	n := strings.ToLower(name)
	if i := strings.IndexByte(n, '['); i >= 0 { // "old_secrets[2]"
		n = n[:i]
	}
	if i := strings.LastIndexByte(n, '.'); i >= 0 { // "tls.password"
		n = n[i+1:]
	}
	n = strings.ReplaceAll(n, "-", "_")
	if strings.HasSuffix(n, "file") {
		return false
	}
	for _, w := range []string{"secret", "password", "passwd", "credential", "apikey", "api_key", "private_key", "token_"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return strings.HasSuffix(n, "token") || n == "pass" || n == "pw" || strings.HasSuffix(n, "_pass") || strings.HasSuffix(n, "_pw")
}

// dsnPasswords finds the password of a DSN in its usual spellings:
// user:password@tcp(host)/db (MySQL), password=... or pwd=... (libpq,
// ODBC); a URL DSN is masked as a URL.
var dsnPasswords = []*regexp.Regexp{
	regexp.MustCompile(`^[^:@/]*:([^@]+)@`),
	regexp.MustCompile(`(?i)\b(?:password|pwd)\s*=\s*'((?:[^'\\]|\\.)*)'`),
	regexp.MustCompile(`(?i)\b(?:password|pwd)\s*=\s*([^\s;']+)`),
}

// minRawMask is the length from which a secret is masked wherever it
// appears, not only quoted.
const minRawMask = 8

// masker holds the secrets of one file, to mask them in messages.
type masker struct {
	secrets []secret // longest first, so a secret containing another is masked whole
}

// secret is one recorded secret and its quoted form (strconv.Quote).
type secret struct{ raw, quoted string }

// add records v as a secret. The list is kept sorted here, once, rather
// than on every mask (Chain.Mask runs on every line of who serve's log).
func (m *masker) add(v string) {
	if v == "" || slices.ContainsFunc(m.secrets, func(s secret) bool { return s.raw == v }) {
		return
	}
	i, _ := slices.BinarySearchFunc(m.secrets, len(v), func(s secret, n int) int { return n - len(s.raw) })
	m.secrets = slices.Insert(m.secrets, i, secret{raw: v, quoted: strconv.Quote(v)})
}

// collectFile records the secrets of a who.toml's data tree (see
// collect); the names of [plugin.NAME] sections are plugin names, not
// option keys ([plugin.htpasswd] holds no secret for its name).
func (m *masker) collectFile(tree map[string]any) {
	for k, v := range tree {
		sections, ok := v.(map[string]any)
		if k != "plugin" || !ok {
			m.collect(v, k, SecretKey(k))
			continue
		}
		for _, sec := range sections {
			m.collect(sec, "", false)
		}
	}
}

// collect records the secrets of a data tree: every string of a
// secret-named key (and in arrays and tables below it), the password of
// every URL and the password of every DSN (a key whose name contains
// dsn).
func (m *masker) collect(v any, key string, secret bool) {
	switch x := v.(type) {
	case string:
		if secret {
			m.add(x)
		}
		if strings.Contains(x, "://") {
			for _, sub := range urlPassword.FindAllStringSubmatch(x, -1) {
				m.add(sub[2])
				if p, err := url.PathUnescape(sub[2]); err == nil {
					m.add(p)
				}
			}
		}
		if strings.Contains(strings.ToLower(key), "dsn") {
			for _, re := range dsnPasswords {
				for _, sub := range re.FindAllStringSubmatch(x, -1) {
					m.add(sub[1])
				}
			}
		}
	case map[string]any:
		for k, e := range x {
			m.collect(e, k, secret || SecretKey(k))
		}
	case []any:
		for _, e := range x {
			m.collect(e, key, secret)
		}
	case []map[string]any:
		for _, e := range x {
			m.collect(e, key, secret)
		}
	}
}

// mask returns s with every URL password and every recorded secret
// masked. A secret shorter than 8 bytes is masked only where it appears
// quoted ("secret"), so that it does not eat the words of the message
// (secret = "secret" must not turn "the secret is too short" into
// nonsense).
func (m *masker) mask(s string) string {
	s = MaskURLPasswords(s)
	if m == nil || len(m.secrets) == 0 {
		return s
	}
	for _, v := range m.secrets {
		if len(v.raw) >= minRawMask {
			s = strings.ReplaceAll(s, v.raw, Mask)
		}
		s = strings.ReplaceAll(s, v.quoted, quotedMask)
	}
	return s
}

// maskedError is an error whose message had secrets masked; it unwraps to
// the original, for errors.Is.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// maskErrors masks the secrets of m in the message of every error in l,
// and in its Use (use = "${NAME}" is expanded too).
func (l errorList) maskErrors(m *masker) {
	for _, e := range l {
		e.Use = m.mask(e.Use)
		if e.Err == nil {
			continue
		}
		msg := e.Err.Error()
		if masked := m.mask(msg); masked != msg {
			e.Err = &maskedError{msg: masked, err: e.Err}
		}
	}
}
