package whocmd

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// endless is stdin that never ends: 200 MB on stdin, or more. It counts
// the bytes read from it.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += len(p)
	return len(p), nil
}

// TestHtpasswdReadsOneBoundedLine: who htpasswd reads the first line of
// stdin and no further, at most maxPasswordBytes and a line end; a longer
// one is a clear error. Before, it read all of stdin into memory (200 MB
// on stdin took 411 MB) before looking at it.
func TestHtpasswdReadsOneBoundedLine(t *testing.T) {
	t.Parallel()
	in := &endless{}
	code, out, errs := func() (int, string, string) {
		var o, e strings.Builder
		c := Run([]string{"htpasswd", "-scheme", "sha", "carol"}, in, &o, &e)
		return c, o.String(), e.String()
	}()
	if code != 2 || out != "" || !strings.Contains(errs, "who htpasswd: the password is longer than 1024 bytes") {
		t.Errorf("endless stdin: exit %d, stdout %q, stderr %q; want exit 2 and the length error", code, out, errs)
	}
	if in.read > maxPasswordBytes+2 {
		t.Errorf("read %d bytes of stdin, want at most %d", in.read, maxPasswordBytes+2)
	}

	tests := []struct {
		in      string
		want    string
		wantErr error
		rest    string // what is left unread
	}{
		{"pw\nsecond line\n", "pw", nil, "second line\n"},
		{"pw\r\nrest", "pw", nil, "rest"},
		{"pw", "pw", io.EOF, ""},
		{"pw\r", "pw", io.EOF, ""},
		{"", "", io.EOF, ""},
		{strings.Repeat("p", maxPasswordBytes) + "\r\n", strings.Repeat("p", maxPasswordBytes), nil, ""},
		{strings.Repeat("p", maxPasswordBytes), strings.Repeat("p", maxPasswordBytes), io.EOF, ""},
		{strings.Repeat("p", maxPasswordBytes+1) + "\n", "", errPasswordTooLong, "\n"},
		{strings.Repeat("p", maxPasswordBytes) + "\rq\n", "", errPasswordTooLong, "\n"},
	}
	for _, tc := range tests {
		r := strings.NewReader(tc.in)
		got, err := readLine(r, maxPasswordBytes)
		rest, _ := io.ReadAll(r)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) || string(rest) != tc.rest {
			t.Errorf("readLine(%.20q…) = %.20q, %v, rest %q; want %.20q, %v, rest %q", tc.in, got, err, rest, tc.want, tc.wantErr, tc.rest)
		}
	}
}

// fakeTerminal answers the prompts with its lines, in order.
type fakeTerminal struct {
	answers []string
	err     error // after the answers
	prompts []string
}

func (f *fakeTerminal) ReadPassword(prompt string, max int) (string, error) {
	f.prompts = append(f.prompts, prompt)
	if len(f.answers) == 0 {
		return "", f.err
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a, nil
}

// TestPromptTwice: at a terminal the password is asked twice, as Apache's
// htpasswd asks it; two different answers are an error.
func TestPromptTwice(t *testing.T) {
	t.Parallel()
	broken := errors.New("read /dev/pts/3: input/output error")
	tests := []struct {
		name    string
		term    *fakeTerminal
		want    string
		wantErr error
		prompts int
	}{
		{"match", &fakeTerminal{answers: []string{"s3cret", "s3cret"}}, "s3cret", nil, 2},
		{"mismatch", &fakeTerminal{answers: []string{"s3cret", "s3crет"}}, "", errPasswordMismatch, 2},
		{"first read fails", &fakeTerminal{err: broken}, "", broken, 1},
		{"second read fails", &fakeTerminal{answers: []string{"s3cret"}, err: broken}, "", broken, 2},
	}
	for _, tc := range tests {
		got, err := promptTwice(tc.term)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
		want := []string{"New password: ", "Re-type new password: "}[:tc.prompts]
		if strings.Join(tc.term.prompts, "|") != strings.Join(want, "|") {
			t.Errorf("%s: prompts %q, want %q", tc.name, tc.term.prompts, want)
		}
	}
}

// TestHtpasswdMessages: who htpasswd's messages name the command once (before:
// "who htpasswd: htpasswd: ...") and list the schemes its -h lists, no
// others (before: md5crypt and crypt too).
func TestHtpasswdMessages(t *testing.T) {
	t.Parallel()
	_, _, usage := runCmd("", "htpasswd", "-h")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"plain that never matches", "$apr1$looks$likeahash\n", []string{"-scheme", "plain", "carol"}, 2,
			"who htpasswd: this plain-text password would never match"},
		{"unknown scheme", "pw\n", []string{"-scheme", "rot13", "carol"}, 2,
			`who htpasswd: unknown -scheme "rot13" (want bcrypt, apr1, sha, sha256, sha512 or plain)`},
		{"near scheme", "pw\n", []string{"-scheme", "bcrpyt", "carol"}, 2,
			`who htpasswd: unknown -scheme "bcrpyt" (did you mean "bcrypt"? want bcrypt, apr1, sha, sha256, sha512 or plain)`},
		// md5crypt and crypt, which -h never listed, are refused with what
		// to use instead (before: "did you mean \"bcrypt\"?" for both).
		{"md5crypt", "pw\n", []string{"-scheme", "md5crypt", "carol"}, 2,
			"who htpasswd: -scheme md5crypt is not written here: glibc's $1$ MD5 is weak; use bcrypt (the default), or apr1 where a server needs Apache's MD5"},
		{"crypt", "pw\n", []string{"-scheme", "crypt", "carol"}, 2,
			"who htpasswd: -scheme crypt is not written here: DES crypt keeps only the first 8 bytes of a password; use bcrypt (the default), or sha512"},
		{"bcrypt over 72 bytes", strings.Repeat("x", 73) + "\n", []string{"carol"}, 2,
			"who htpasswd: bcrypt: password length exceeds 72 bytes: write a shorter password, or give -scheme sha512, which reads up to 1024 bytes"},
		{"no password", "", []string{"carol"}, 2, "who htpasswd: no password given"},
		{"flag after USER", "pw\n", []string{"carol", "-scheme", "sha"}, 0, ""},
	}
	for _, tc := range tests {
		code, out, errs := runCmd(tc.stdin, append([]string{"htpasswd"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.name, code, out, errs, tc.code, tc.want)
		}
		if _, list, _ := strings.Cut(errs, "("); strings.Contains(errs, "htpasswd: htpasswd:") || strings.Contains(list, "md5crypt") || strings.Contains(list, " crypt") {
			t.Errorf("%s: stderr %q doubles its prefix or lists a scheme -h does not", tc.name, errs)
		}
	}
	if !strings.Contains(usage, "bcrypt, apr1, sha, sha256, sha512 or plain") {
		t.Errorf("-h does not list the schemes:\n%s", usage)
	}
}
