package whocmd

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gowho/gowho/plugins/htpasswd"
)

// runHtpasswd reads a password from stdin (the first line) and prints an
// htpasswd line for USER that Apache accepts.
func runHtpasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who htpasswd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scheme := fs.String("scheme", "bcrypt", "hash scheme: bcrypt, apr1, sha, sha256, sha512 or plain")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: who htpasswd [-scheme S] USER < password")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	user := fs.Arg(0)
	if user == "" || strings.ContainsAny(user, ":\r\n") {
		fmt.Fprintf(stderr, "who htpasswd: user %q must be non-empty and hold no ':' or line break\n", user)
		return 2
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "who htpasswd: reading the password from stdin: %v\n", err)
		return 1
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		fmt.Fprintln(stderr, "who htpasswd: no password on stdin (write it as the first line)")
		return 2
	}
	hash, err := htpasswd.Hash(*scheme, password)
	if err != nil {
		fmt.Fprintf(stderr, "who htpasswd: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s:%s\n", user, hash)
	return 0
}
