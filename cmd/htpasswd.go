package whocmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gowho/gowho/internal/suggest"
	"github.com/gowho/gowho/plugins/htpasswd"
	"golang.org/x/crypto/bcrypt"
)

// htpasswdSchemes are the schemes `who htpasswd` writes, as its -h lists
// them (package htpasswd also writes md5crypt and DES crypt, for Go
// callers that need them).
var htpasswdSchemes = []string{htpasswd.SchemeBcrypt, htpasswd.SchemeAPR1, htpasswd.SchemeSHA,
	htpasswd.SchemeSHA256, htpasswd.SchemeSHA512, htpasswd.SchemePlain}

// htpasswdRefused are the schemes package htpasswd writes that `who
// htpasswd` does not (its -h never listed them), each with what to use
// instead: a new password deserves a stronger hash.
var htpasswdRefused = map[string]string{
	htpasswd.SchemeMD5Crypt: "glibc's $1$ MD5 is weak; use bcrypt (the default), or apr1 where a server needs Apache's MD5",
	htpasswd.SchemeCrypt:    "DES crypt keeps only the first 8 bytes of a password; use bcrypt (the default), or sha512",
}

// maxPasswordBytes is the longest password `who htpasswd` reads: what
// package htpasswd hashes. It reads at most this and a line end.
const maxPasswordBytes = htpasswd.MaxPasswordLen

// Why a password could not be read.
var (
	errPasswordTooLong  = fmt.Errorf("the password is longer than %d bytes (htpasswd.MaxPasswordLen); write a shorter one", maxPasswordBytes)
	errPasswordMismatch = errors.New("the two passwords do not match (password verification error); nothing written")
)

// A terminal reads a password after a prompt without showing it.
type terminal interface {
	// ReadPassword writes prompt, reads one line of at most max bytes
	// (without its line end) with echo off, and restores the terminal.
	ReadPassword(prompt string, max int) (string, error)
}

// runHtpasswd prints an htpasswd line for USER that Apache accepts. At a
// terminal it asks for the password twice with echo off, as Apache's
// htpasswd; otherwise it reads the first line of stdin, and no more.
func runHtpasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who htpasswd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scheme := fs.String("scheme", "bcrypt", "hash scheme: "+orList(htpasswdSchemes))
	setUsage(fs, stderr, []string{"who htpasswd [-scheme S] USER", "who htpasswd [-scheme S] USER < password-file"},
		"Prints an htpasswd line for USER. At a terminal the password is asked twice, not shown;",
		fmt.Sprintf("otherwise it is the first line of stdin (at most %d bytes).", maxPasswordBytes))
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "who htpasswd: want exactly one argument, USER; got %d\n", len(pos))
		fs.Usage()
		return 2
	}
	user := pos[0]
	if user == "" || strings.ContainsAny(user, ":\r\n") {
		fmt.Fprintf(stderr, "who htpasswd: user %q must be non-empty and hold no ':' or line break\n", user)
		return 2
	}
	if why, ok := htpasswdRefused[*scheme]; ok {
		fmt.Fprintf(stderr, "who htpasswd: -scheme %s is not written here: %s (want %s)\n", *scheme, why, orList(htpasswdSchemes))
		return 2
	}
	if !slices.Contains(htpasswdSchemes, *scheme) {
		hint := ""
		if near := suggest.Closest(*scheme, htpasswdSchemes); near != "" {
			hint = fmt.Sprintf("did you mean %q? ", near)
		}
		fmt.Fprintf(stderr, "who htpasswd: unknown -scheme %q (%swant %s)\n", *scheme, hint, orList(htpasswdSchemes))
		return 2
	}
	var password string
	var err error
	if term, ok := openTerminal(stdin, stderr); ok {
		password, err = promptTwice(term)
	} else {
		password, err = readLine(stdin, maxPasswordBytes)
	}
	if errors.Is(err, io.EOF) {
		err = nil // nothing typed at the prompt, or a last line without "\n"
	}
	switch {
	case errors.Is(err, errPasswordMismatch):
		fmt.Fprintln(stderr, errorLine("who htpasswd", err))
		return 1
	case errors.Is(err, errPasswordTooLong):
		fmt.Fprintln(stderr, errorLine("who htpasswd", err))
		return 2
	case err != nil:
		fmt.Fprintln(stderr, errorLine("who htpasswd", fmt.Errorf("reading the password: %w", err)))
		return 1
	case password == "":
		fmt.Fprintln(stderr, "who htpasswd: no password given (at a terminal type it at the prompt; else write it as the first line of stdin)")
		return 2
	}
	hash, err := htpasswd.Hash(*scheme, password)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		err = fmt.Errorf("%w: write a shorter password, or give -scheme sha512, which reads up to %d bytes", err, maxPasswordBytes)
	}
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who htpasswd", err))
		return 2
	}
	fmt.Fprintf(stdout, "%s:%s\n", user, hash)
	return 0
}

// promptTwice asks for a new password and for it again, as Apache's
// htpasswd does; two different answers are errPasswordMismatch.
func promptTwice(t terminal) (string, error) {
	pw, err := t.ReadPassword("New password: ", maxPasswordBytes)
	if err != nil {
		return "", err
	}
	again, err := t.ReadPassword("Re-type new password: ", maxPasswordBytes)
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errPasswordMismatch
	}
	return pw, nil
}

// readLine reads one line from r, a byte at a time so that nothing after
// it is consumed, and returns it without its "\n" or "\r\n". It reads at
// most max bytes and a line end: a longer line is errPasswordTooLong, read
// no further. A last line without "\n" is returned with io.EOF.
func readLine(r io.Reader, max int) (string, error) {
	line := make([]byte, 0, 64)
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				return strings.TrimSuffix(string(line), "\r"), nil
			}
			// One byte past max may still be the '\r' of "\r\n".
			if len(line) > max || len(line) == max && b[0] != '\r' {
				return "", errPasswordTooLong
			}
			line = append(line, b[0])
			continue
		}
		if err != nil {
			s := strings.TrimSuffix(string(line), "\r")
			if len(s) > max {
				return "", errPasswordTooLong
			}
			return s, err
		}
	}
}

// maxDiscard bounds what discardLine reads: a terminal's line (in
// canonical mode at most 4096 bytes on Linux) fits many times.
const maxDiscard = 64 << 10

// discardLine reads and drops the rest of a line that was too long, up to
// its "\n" and at most maxDiscard bytes. At a terminal the rest is
// already queued; left there, the shell would read it after the program
// exits and run the password's tail as a command, into its history.
func discardLine(r io.Reader) {
	var b [1]byte
	for range maxDiscard {
		if n, err := r.Read(b[:]); n == 1 && b[0] == '\n' || n == 0 && err != nil {
			return
		}
	}
}

// orList is "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
