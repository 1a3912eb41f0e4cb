package authtkt

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors of ticket parsing and checking; test them with errors.Is.
var (
	// ErrMalformed: the value is not a ticket in any encoding mod_auth_tkt
	// or repoze.who reads.
	ErrMalformed = errors.New("authtkt: malformed ticket")
	// ErrBadDigest: the ticket is well formed but its digest does not match
	// the secret (and IP). The fields Parse returns are then untrusted.
	ErrBadDigest = errors.New("authtkt: digest signature is not correct")
	// ErrExpired: the digest is right but the ticket is older than the
	// timeout.
	ErrExpired = errors.New("authtkt: ticket expired")
	// ErrUnknownDigest: the digest algorithm is not md5, sha1, sha256 or
	// sha512.
	ErrUnknownDigest = errors.New("authtkt: unknown digest algorithm")
	// ErrUnencodable: a field holds a byte the chosen encoding cannot carry
	// (a "!" in user data, a "," in a token, a space in a mod_auth_tkt
	// userid…).
	ErrUnencodable = errors.New("authtkt: value cannot be carried in a ticket")
)

// Userid encodings (the userid_encoding option). See the package
// documentation for why there are two.
const (
	// EncodingRepoze writes the URL-quoted userid into the ticket and
	// digests the unquoted userid, as repoze.who does. Any UTF-8 userid
	// (including "!") round-trips; mod_auth_tkt reads only userids of
	// [A-Za-z0-9_.~/-] correctly.
	EncodingRepoze = "repoze"
	// EncodingModAuthTkt writes and digests the userid as it is, as Apache
	// mod_auth_tkt does; userids are limited to printable ASCII without
	// space, '!', '"', '%', ',', ';' and '\'.
	EncodingModAuthTkt = "mod_auth_tkt"
)

// Digest algorithm names (the digest_algo option; Apache's
// TKTAuthDigestType names are accepted in any case).
const (
	MD5    = "md5"
	SHA1   = "sha1"
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// Ticket is one auth_tkt ticket: the mod_auth_tkt format repoze.who also
// uses,
//
//	DIGEST + TS(8 hex) + USERID + "!" + [TOKENS + "!"] + USERDATA
//
// signed with a shared secret.
type Ticket struct {
	// UserID is the (unquoted) userid.
	UserID string
	// Tokens are the ticket's tokens; nil when it has none.
	Tokens []string
	// UserData is the free-form user data string, as in the ticket.
	UserData string
	// Time is the ticket's timestamp (second precision).
	Time time.Time
	// IP is the client address folded into the digest (include_ip); nil
	// means 0.0.0.0, i.e. not bound to an address. An IPv4 address (or an
	// IPv4-mapped IPv6 one) is digested as its 4 bytes, as both originals
	// do; any other IPv6 address as its 16 bytes (a gowho extension).
	IP net.IP
	// Encoding is the userid encoding, EncodingRepoze ("" too) or
	// EncodingModAuthTkt.
	Encoding string
	// Digest is the hex digest found in the ticket (set by Parse, ignored
	// by Cookie).
	Digest string
}

// digestSize returns the hex length of the digest algorithm, or 0.
func digestSize(algo string) int {
	switch normAlgo(algo) {
	case MD5:
		return 32
	case SHA1:
		return 40
	case SHA256:
		return 64
	case SHA512:
		return 128
	}
	return 0
}

// normAlgo lower-cases the few accepted spellings without allocating for
// the common ones.
func normAlgo(algo string) string {
	switch algo {
	case "", MD5, "MD5":
		return MD5
	case SHA1, "SHA1", "sha-1", "SHA-1":
		return SHA1
	case SHA256, "SHA256", "sha-256", "SHA-256":
		return SHA256
	case SHA512, "SHA512", "sha-512", "SHA-512":
		return SHA512
	}
	return strings.ToLower(algo)
}

// CheckDigest reports whether algo names a supported digest algorithm
// (md5, sha1, sha256 or sha512, any case; "" is md5).
func CheckDigest(algo string) error {
	if digestSize(algo) == 0 {
		return fmt.Errorf("%w %q (want md5, sha1, sha256 or sha512)", ErrUnknownDigest, algo)
	}
	return nil
}

// ipBytes returns the bytes the digest holds for ip.
func ipBytes(ip net.IP, buf *[16]byte) []byte {
	if ip == nil {
		return buf[:4] // 0.0.0.0
	}
	if v4 := ip.To4(); v4 != nil {
		copy(buf[:4], v4)
		return buf[:4]
	}
	if len(ip) == net.IPv6len {
		copy(buf[:], ip)
		return buf[:]
	}
	return buf[:4]
}

// sum computes the mod_auth_tkt digest into dst (hex) and returns it:
//
//	inner = H(IP ‖ TS4 ‖ SECRET ‖ USERID ‖ 0 ‖ TOKENS ‖ 0 ‖ UDATA) as hex
//	outer = H(inner ‖ SECRET) as hex
//
// It allocates nothing for tickets under ~200 bytes.
func sum(dst []byte, algo string, ip net.IP, ts uint32, secret, userid, tokens, udata string) []byte {
	var ipb [16]byte
	var stack [256]byte
	msg := append(stack[:0], ipBytes(ip, &ipb)...)
	msg = append(msg, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts))
	msg = append(msg, secret...)
	msg = append(msg, userid...)
	msg = append(msg, 0)
	msg = append(msg, tokens...)
	msg = append(msg, 0)
	msg = append(msg, udata...)
	var inner [128]byte
	n := hashHex(inner[:], algo, msg)
	msg = append(msg[:0], inner[:n]...)
	msg = append(msg, secret...)
	var outer [128]byte
	n = hashHex(outer[:], algo, msg)
	return append(dst, outer[:n]...)
}

func hashHex(dst []byte, algo string, msg []byte) int {
	switch normAlgo(algo) {
	case SHA1:
		s := sha1.Sum(msg)
		return hex.Encode(dst, s[:])
	case SHA256:
		s := sha256.Sum256(msg)
		return hex.Encode(dst, s[:])
	case SHA512:
		s := sha512.Sum512(msg)
		return hex.Encode(dst, s[:])
	default:
		s := md5.Sum(msg)
		return hex.Encode(dst, s[:])
	}
}

// Cookie returns the ticket's cookie value (unquoted, raw: the form
// repoze.who writes and both originals read), signed with secret and the
// digest algorithm ("" is md5). It refuses, with ErrUnencodable, a field
// the ticket's encoding cannot carry.
func (t Ticket) Cookie(secret, digest string) (string, error) {
	return t.encode(secret, digest, false)
}

// quotedCookie is Cookie for a value that is written in double quotes (the
// plugin's own Set-Cookie lines): tokens and user data may also hold
// spaces, and user data "!". When user data holds "!", the tokens field is
// always written (empty when there are none, as Apache writes it), so that
// the first "!" after the userid still ends the tokens and every reader
// (gowho, repoze.who, mod_auth_tkt) splits the ticket as it was signed.
func (t Ticket) quotedCookie(secret, digest string) (string, error) {
	return t.encode(secret, digest, true)
}

func (t Ticket) encode(secret, digest string, quoted bool) (string, error) {
	if err := CheckDigest(digest); err != nil {
		return "", err
	}
	quid, err := encodeUserID(t.UserID, t.Encoding)
	if err != nil {
		return "", err
	}
	tokens, err := joinTokens(t.Tokens, quoted)
	if err != nil {
		return "", err
	}
	if err := checkUserData(t.UserData, quoted); err != nil {
		return "", err
	}
	ts := uint32(t.Time.Unix())
	duid := t.UserID
	if t.Encoding == EncodingModAuthTkt {
		duid = quid
	}
	b := make([]byte, 0, digestSize(digest)+8+len(quid)+len(tokens)+len(t.UserData)+2)
	b = sum(b, digest, t.IP, ts, secret, duid, tokens, t.UserData)
	b = fmt.Appendf(b, "%08x", ts)
	b = append(b, quid...)
	b = append(b, '!')
	if tokens != "" || strings.IndexByte(t.UserData, '!') >= 0 {
		b = append(b, tokens...)
		b = append(b, '!')
	}
	b = append(b, t.UserData...)
	return string(b), nil
}

// cookieSafe reports whether c may appear in a cookie value unquoted and
// inside a ticket field.
func cookieSafe(c byte) bool {
	return c > 0x20 && c < 0x7f && c != '"' && c != ';' && c != '\\' && c != '!'
}

// encodeUserID returns the userid as it appears in the ticket.
func encodeUserID(uid, enc string) (string, error) {
	if uid == "" {
		return "", fmt.Errorf("%w: empty userid", ErrUnencodable)
	}
	switch enc {
	case "", EncodingRepoze:
		if !validUserID(uid) {
			return "", fmt.Errorf("%w: userid holds CR, LF or NUL, or is not valid UTF-8 (userid_encoding %q)", ErrUnencodable, EncodingRepoze)
		}
		return quote(uid), nil
	case EncodingModAuthTkt:
		for i := 0; i < len(uid); i++ {
			c := uid[i]
			if !cookieSafe(c) || c == '%' || c == ',' {
				return "", fmt.Errorf("%w: userid byte %q cannot be carried with userid_encoding %q "+
					"(mod_auth_tkt puts the userid in the ticket as it is; use %q)",
					ErrUnencodable, c, EncodingModAuthTkt, EncodingRepoze)
			}
		}
		return uid, nil
	}
	return "", fmt.Errorf("%w: unknown userid_encoding %q (want %q or %q)", ErrUnencodable, enc, EncodingRepoze, EncodingModAuthTkt)
}

// quotedSafe reports whether c may appear inside a double-quoted cookie
// value that every reader takes as it is: printable ASCII and the space,
// without the quote, ";" and the backslash (which Python's and gowho's
// readers take as an escape).
func quotedSafe(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != ';' && c != '\\'
}

// joinTokens joins tokens with ","; quoted (the value goes in double
// quotes) also allows spaces in a token.
func joinTokens(tokens []string, quoted bool) (string, error) {
	for _, tok := range tokens {
		if tok == "" {
			return "", fmt.Errorf("%w: empty token", ErrUnencodable)
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c == ',' || c == '!' || !cookieSafe(c) && !(quoted && quotedSafe(c)) {
				if quoted {
					return "", fmt.Errorf("%w: token byte %q (tokens may not hold ',', '!', quotes, ';', backslashes, control or non-ASCII bytes)", ErrUnencodable, c)
				}
				return "", fmt.Errorf("%w: token byte %q (tokens may not hold ',', '!', spaces, quotes or ';')", ErrUnencodable, c)
			}
		}
	}
	return strings.Join(tokens, ","), nil
}

// checkUserData refuses user data the ticket cannot carry; quoted (the
// value goes in double quotes) also allows spaces and "!".
func checkUserData(ud string, quoted bool) error {
	for i := 0; i < len(ud); i++ {
		c := ud[i]
		if quoted && quotedSafe(c) || cookieSafe(c) {
			continue
		}
		if quoted {
			return fmt.Errorf("%w: user data byte %q (user data may not hold quotes, ';', backslashes, control or non-ASCII bytes; URL-encode it)", ErrUnencodable, c)
		}
		return fmt.Errorf("%w: user data byte %q (user data may not hold '!', spaces, quotes or ';'; URL-encode it)", ErrUnencodable, c)
	}
	return nil
}

// quote is Python's urllib.parse.quote(s, safe="/"): unreserved characters
// and "/" stay, every other byte becomes %XX (upper case).
func quote(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexd = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '~' || c == '/'
}

// unquote is Python's urllib.parse.unquote on bytes: %XX becomes the byte,
// anything else (a lone "%", "+") stays as it is.
func unquote(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// cookieUnquote is Python's http.cookies._unquote: a value of at least
// two bytes that starts and ends with a double quote loses them, and
// inside, a backslash and three octal digits (the first 0-3) is that byte
// and a backslash and any other byte but LF is that byte; a backslash
// before LF or at the end stays. Any other value is returned as it is.
// Python decodes \ooo to the character of that code point in a
// Latin-1-decoded header, which is the byte here. It allocates only when
// the value holds a backslash.
func cookieUnquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	i := strings.IndexByte(v, '\\')
	if i < 0 {
		return v
	}
	b := make([]byte, 0, len(v))
	b = append(b, v[:i]...)
	for ; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			b = append(b, c)
			continue
		}
		if i+3 < len(v) && '0' <= v[i+1] && v[i+1] <= '3' && isOctal(v[i+2]) && isOctal(v[i+3]) {
			b = append(b, (v[i+1]-'0')<<6|(v[i+2]-'0')<<3|(v[i+3]-'0'))
			i += 3
			continue
		}
		if v[i+1] == '\n' {
			b = append(b, c) // Python's "." does not match a newline
			continue
		}
		b = append(b, v[i+1])
		i++
	}
	return string(b)
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// raw is a decoded, unverified ticket.
type raw struct {
	digest   string
	ts       uint32
	quid     string // the userid as in the ticket
	tokens   string
	userdata string
}

// Normalize returns the raw ticket string inside a cookie value, whatever
// encoding it came in: raw, "quoted", URL-escaped ("!" as %21), or base64
// (standard or URL alphabet, padded or not, quoted or not). Apache
// mod_auth_tkt reads all of these. A value in double quotes has its
// escapes decoded first, as Python's http.cookies (which repoze.who reads
// cookies with) does: "\054" is ",", the way WebOb's set_cookie and
// http.cookies write a comma (see cookieUnquote). Quotes left unbalanced
// around the ticket are then stripped.
func Normalize(value string) (string, error) {
	v := strings.TrimSpace(value)
	v = cookieUnquote(v)
	v = strings.Trim(v, `"`)
	if strings.IndexByte(v, '!') >= 0 {
		return v, nil
	}
	if strings.IndexByte(v, '%') >= 0 {
		v = unquote(v)
		if strings.IndexByte(v, '!') >= 0 {
			return v, nil
		}
	}
	v = strings.Trim(v, `"`)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(v)
		if err == nil && len(b) > 0 {
			s := strings.Trim(string(b), `"`)
			if strings.IndexByte(s, '!') >= 0 {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no '!' after the userid in any encoding (raw, quoted, %%-escaped or base64)", ErrMalformed)
}

// decode splits a cookie value into its fields without checking the
// digest.
func decode(value, algo string) (raw, error) {
	v, err := Normalize(value)
	if err != nil {
		return raw{}, err
	}
	n := digestSize(algo)
	if n == 0 {
		return raw{}, CheckDigest(algo)
	}
	if len(v) < n+8 {
		return raw{}, fmt.Errorf("%w: shorter than a %s digest and a timestamp", ErrMalformed, normAlgo(algo))
	}
	var p raw
	p.digest = v[:n]
	var ts uint32
	for i := n; i < n+8; i++ {
		if !ishex(v[i]) {
			return raw{}, fmt.Errorf("%w: timestamp is not a hex integer", ErrMalformed)
		}
		ts = ts<<4 | uint32(unhex(v[i]))
	}
	p.ts = ts
	rest := v[n+8:]
	i := strings.IndexByte(rest, '!')
	if i < 0 {
		return raw{}, fmt.Errorf("%w: no '!' after the userid", ErrMalformed)
	}
	p.quid, rest = rest[:i], rest[i+1:]
	if j := strings.IndexByte(rest, '!'); j >= 0 {
		p.tokens, p.userdata = rest[:j], rest[j+1:]
	} else {
		p.userdata = rest
	}
	return p, nil
}

// userID returns the userid the ticket carries and the bytes digested for
// it, per encoding.
func (p *raw) userID(enc string) string {
	if enc == EncodingModAuthTkt {
		return p.quid
	}
	return unquote(p.quid)
}

// validUserID reports whether a ticket's (decoded) userid may be
// returned: valid UTF-8 without CR, LF or NUL, which would reach logs and
// header-setting code (remote_user_key) as line breaks or truncations.
// repoze.who refuses a non-UTF-8 userid too (its digest check fails).
func validUserID(uid string) bool {
	return utf8.ValidString(uid) && !strings.ContainsAny(uid, "\r\n\x00")
}

// verify reports whether the ticket's digest is right for secret and ip,
// comparing in constant time.
func (p *raw) verify(secret, algo string, ip net.IP, uid string) bool {
	var buf [128]byte
	want := sum(buf[:0], algo, ip, p.ts, secret, uid, p.tokens, p.userdata)
	return len(want) == len(p.digest) && subtle.ConstantTimeCompare(want, []byte(p.digest)) == 1
}

func (p *raw) ticket(uid, enc string, ip net.IP) Ticket {
	t := Ticket{UserID: uid, UserData: p.userdata, Time: time.Unix(int64(p.ts), 0).UTC(), IP: ip, Encoding: enc, Digest: p.digest}
	if p.tokens != "" {
		t.Tokens = strings.Split(p.tokens, ",")
	}
	return t
}

// Parse reads a cookie value in any encoding mod_auth_tkt reads (see
// Normalize), with repoze.who's userid encoding, and checks its digest
// with secret, the client ip (nil: 0.0.0.0) and the digest algorithm (""
// is md5). A malformed value, or one whose userid holds CR, LF or NUL or
// is not valid UTF-8, gives ErrMalformed; a wrong digest gives the
// fields found (untrusted) and ErrBadDigest. Parse does not check the age:
// see Ticket.Expired. It never reveals the expected digest.
func Parse(secret, value string, ip net.IP, digest string) (Ticket, error) {
	return ParseEncoding(secret, value, ip, digest, EncodingRepoze)
}

// ParseEncoding is Parse with a userid encoding (EncodingRepoze or
// EncodingModAuthTkt).
func ParseEncoding(secret, value string, ip net.IP, digest, encoding string) (Ticket, error) {
	if err := CheckDigest(digest); err != nil {
		return Ticket{}, err
	}
	p, err := decode(value, digest)
	if err != nil {
		return Ticket{}, err
	}
	uid := p.userID(encoding)
	if !validUserID(uid) {
		return Ticket{}, fmt.Errorf("%w: the userid holds CR, LF or NUL, or is not valid UTF-8", ErrMalformed)
	}
	t := p.ticket(uid, encoding, ip)
	if !p.verify(secret, digest, ip, uid) {
		return t, ErrBadDigest
	}
	return t, nil
}

// Expired reports whether the ticket is older than timeout at now
// (timestamp + timeout < now, as both originals); a zero timeout never
// expires.
func (t Ticket) Expired(timeout time.Duration, now time.Time) bool {
	return timeout > 0 && t.Time.Add(timeout).Before(now)
}
