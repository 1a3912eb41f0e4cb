package whocmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/plugins/authtkt"
)

const ticketUsage = `usage:
  who ticket make -secret S [-digest md5|sha1|sha256|sha512] [-tokens a,b] [-userdata k=v&…]
                  [-ip A.B.C.D] [-time UNIX] [-encoding repoze|mod_auth_tkt] USER
  who ticket read -secret S [-digest …] [-ip A.B.C.D] [-encoding …] [-timeout 2h] VALUE

make prints an auth_tkt cookie value; read prints a value's fields and
whether its digest is valid (exit 0 only then). read takes every encoding
the authtkt identifier takes: raw, "quoted", %21-escaped and base64; without
-digest it detects the digest (the one that checks, else the ticket's length).
-secretfile FILE reads the secret from a file instead of the command line.
Flags may also follow VALUE or USER.

flags:
`

// ticketFlags are the flags of "who ticket make" and "who ticket read".
type ticketFlags struct {
	secret, secretFile, digest, ip, enc, tokens, userdata *string
	ts                                                    *int64
	timeout                                               *time.Duration
}

// newTicketFlagSet defines the ticket flags in a FlagSet named name whose
// usage is ticketUsage and every flag.
func newTicketFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *ticketFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, ticketUsage)
		fs.PrintDefaults()
	}
	return fs, &ticketFlags{
		secret:     fs.String("secret", "", "the shared secret"),
		secretFile: fs.String("secretfile", "", "read the secret from this file"),
		digest:     fs.String("digest", "md5", "digest algorithm: md5, sha1, sha256 or sha512 (read: detected from the ticket when not given)"),
		ip:         fs.String("ip", "", "client IPv4 (or IPv6) address bound into the digest (default 0.0.0.0)"),
		enc:        fs.String("encoding", authtkt.EncodingRepoze, "userid encoding: repoze or mod_auth_tkt"),
		tokens:     fs.String("tokens", "", "comma-separated tokens (make)"),
		userdata:   fs.String("userdata", "", "user data string (make)"),
		ts:         fs.Int64("time", 0, "ticket time in seconds since the epoch (make; default now)"),
		timeout:    fs.Duration("timeout", 0, "also check the ticket is not older than this (read)"),
	}
}

// runTicket implements "who ticket make" and "who ticket read".
func runTicket(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "make" && args[0] != "read") {
		fs, _ := newTicketFlagSet("who ticket", stderr)
		switch {
		case len(args) > 0 && isHelp(args[0]):
			fs.Usage()
			return 0
		case len(args) > 0:
			hint := ""
			if near := suggest.Closest(args[0], []string{"make", "read"}); near != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", near)
			}
			fmt.Fprintf(stderr, "who ticket: unknown subcommand %q%s; want make or read\n", args[0], hint)
		}
		fs.Usage()
		return 2
	}
	sub := args[0]
	fs, f := newTicketFlagSet("who ticket "+sub, stderr)
	secret, secretFile, digest, ipStr, enc, tokens, userdata, ts, timeout :=
		f.secret, f.secretFile, f.digest, f.ip, f.enc, f.tokens, f.userdata, f.ts, f.timeout
	pos, code, ok := parseArgs(fs, args[1:])
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "who ticket %s: want exactly one argument, got %d\n", sub, len(pos))
		fs.Usage()
		return 2
	}
	arg := pos[0]
	if *secretFile != "" {
		if *secret != "" {
			fmt.Fprintln(stderr, "who ticket: give -secret or -secretfile, not both")
			return 2
		}
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			fmt.Fprintf(stderr, "who ticket: %v\n", err)
			return 2
		}
		*secret = strings.TrimSpace(string(b))
	}
	if *secret == "" {
		fmt.Fprintln(stderr, "who ticket: -secret (or -secretfile) is required")
		return 2
	}
	if n := len(*secret); n < authtkt.MinSecretBytes {
		// Still made and read: tickets of an old short secret are what
		// one inspects during a rotation.
		fmt.Fprintf(stderr, "who ticket: note: the secret is %d bytes; the authtkt plugin refuses secrets under %d bytes unless allow_weak_secret = true\n", n, authtkt.MinSecretBytes)
	}
	if err := authtkt.CheckDigest(*digest); err != nil {
		fmt.Fprintf(stderr, "who ticket: %v\n", err)
		return 2
	}
	if *enc != authtkt.EncodingRepoze && *enc != authtkt.EncodingModAuthTkt {
		fmt.Fprintf(stderr, "who ticket: -encoding %q: want repoze or mod_auth_tkt\n", *enc)
		return 2
	}
	var ip net.IP
	if *ipStr != "" {
		if ip = net.ParseIP(*ipStr); ip == nil {
			fmt.Fprintf(stderr, "who ticket: -ip %q is not an IP address\n", *ipStr)
			return 2
		}
	}
	if sub == "make" {
		t := authtkt.Ticket{UserID: arg, UserData: *userdata, IP: ip, Encoding: *enc, Time: time.Now()}
		if *tokens != "" {
			t.Tokens = strings.Split(*tokens, ",")
		}
		if *ts != 0 {
			t.Time = time.Unix(*ts, 0)
		}
		v, err := t.Cookie(*secret, *digest)
		if err != nil {
			fmt.Fprintf(stderr, "who ticket make: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, v)
		return 0
	}
	digestNote := ""
	digestGiven := false
	fs.Visit(func(f *flag.Flag) { digestGiven = digestGiven || f.Name == "digest" })
	if !digestGiven {
		*digest, digestNote = detectDigest(arg, *secret, ip, *enc)
	}
	return readTicket(arg, *secret, *digest, digestNote, *enc, ip, *timeout, stdout, stderr)
}

// digestsBySize are the digests from the longest hex digest to the
// shortest: sha512 128 hex digits, sha256 64, sha1 40, md5 32.
var digestsBySize = []struct {
	name string
	hex  int
}{{authtkt.SHA512, 128}, {authtkt.SHA256, 64}, {authtkt.SHA1, 40}, {authtkt.MD5, 32}}

// detectDigest picks the digest of a ticket read without -digest: the one
// whose signature checks, else the one its length says. A ticket is the
// hex digest, 8 hex digits of time, then the userid up to the first '!':
// the digest is the longest whose digits and time fit in the leading hex
// digits with a userid left after them and whose time is plausible (from
// 2000 to a year from now: a userid that starts with hex digits, "12345"
// or "alice", lengthens the run). note says how it was found.
func detectDigest(value, secret string, ip net.IP, enc string) (digest, note string) {
	for _, d := range digestsBySize {
		if _, err := authtkt.ParseEncoding(secret, value, ip, d.name, enc); err == nil {
			return d.name, "detected: its signature checks"
		}
	}
	raw, err := authtkt.Normalize(value)
	if err != nil {
		return authtkt.MD5, ""
	}
	first, _, _ := strings.Cut(raw, "!")
	hexRun := 0
	for hexRun < len(first) && strings.IndexByte("0123456789abcdefABCDEF", first[hexRun]) >= 0 {
		hexRun++
	}
	latest := time.Now().AddDate(1, 0, 0).Unix()
	fallback := ""
	var plausible []string
	for _, d := range digestsBySize {
		if hexRun < d.hex+8 || len(first) <= d.hex+8 {
			continue
		}
		ts, err := strconv.ParseUint(first[d.hex:d.hex+8], 16, 32)
		if err == nil && int64(ts) >= 946684800 && int64(ts) <= latest {
			plausible = append(plausible, d.name)
		}
		if fallback == "" {
			fallback = d.name
		}
	}
	switch {
	case len(plausible) > 1:
		// A userid of hex digits (a hash, a UUID without dashes) makes a
		// shorter digest's ticket read as a longer one with a plausible
		// time by chance: 2 of 5 md5 tickets of a 40-digit hex userid.
		verb := "fit"
		if len(plausible) == 2 {
			verb = "fits"
		}
		return plausible[0], fmt.Sprintf("detected from the ticket's length, but %s %s it too: give -digest to choose",
			orList(plausible[1:]), verb)
	case len(plausible) == 1:
		return plausible[0], "detected from the ticket's length"
	case fallback == "":
		return authtkt.MD5, ""
	}
	return fallback, "detected from the ticket's length; its time is implausible"
}

func readTicket(value, secret, digest, digestNote, enc string, ip net.IP, timeout time.Duration, stdout, stderr io.Writer) int {
	t, err := authtkt.ParseEncoding(secret, value, ip, digest, enc)
	if errors.Is(err, authtkt.ErrMalformed) {
		// Perhaps it is a ticket of another digest length.
		for _, d := range []string{authtkt.MD5, authtkt.SHA1, authtkt.SHA256, authtkt.SHA512} {
			if d == digest {
				continue
			}
			if _, e := authtkt.ParseEncoding(secret, value, ip, d, enc); e == nil {
				fmt.Fprintf(stderr, "who ticket read: %v with -digest %s; it is valid with -digest %s\n", err, digest, d)
				return 1
			}
		}
		fmt.Fprintf(stderr, "who ticket read: %v\n", err)
		return 1
	}
	if err != nil && !errors.Is(err, authtkt.ErrBadDigest) {
		fmt.Fprintf(stderr, "who ticket read: %v\n", err)
		return 1
	}
	norm, _ := authtkt.Normalize(value)
	w := func(k, v string) { fmt.Fprintf(stdout, "%-10s %s\n", k+":", v) }
	w("userid", strconv.Quote(t.UserID))
	w("time", fmt.Sprintf("%d (%s)", t.Time.Unix(), t.Time.UTC().Format(time.RFC3339)))
	w("tokens", strings.Join(t.Tokens, ","))
	w("userdata", t.UserData)
	if typ := authtkt.UserIDType(t.UserData); typ != "" {
		w("userid_type", typ)
	}
	if digestNote != "" {
		w("digest", digest+" ("+digestNote+") "+t.Digest)
	} else {
		w("digest", digest+" "+t.Digest)
	}
	if ip == nil {
		w("ip", "0.0.0.0 (not bound)")
	} else {
		w("ip", ip.String())
	}
	w("encoding", enc)
	if norm != strings.Trim(strings.TrimSpace(value), `"`) {
		w("raw", norm)
	}
	if err != nil {
		reason := "wrong secret, digest algorithm, client IP or userid encoding, or a changed field"
		for _, d := range []string{authtkt.MD5, authtkt.SHA1, authtkt.SHA256, authtkt.SHA512} {
			if _, e := authtkt.ParseEncoding(secret, value, ip, d, enc); e == nil && d != digest {
				reason = "it is valid with -digest " + d
			}
		}
		if ip == nil {
			reason += "; if the issuer bound the client address (Apache's default), give -ip"
		}
		w("valid", "no: "+err.Error()+" ("+reason+")")
		return 1
	}
	if t.Expired(timeout, time.Now()) {
		w("valid", fmt.Sprintf("no: %v (issued %s ago, timeout %s)", authtkt.ErrExpired, time.Since(t.Time).Round(time.Second), timeout))
		return 1
	}
	w("valid", "yes")
	return 0
}
