package whocmd

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sha512Ticket is alice's ticket of time 1700000000 with the secret
// s33kr1t and the digest sha512.
const sha512Ticket = "ebae21e5cfd21a3555190df03e48ac06f2deb7ffb76bf8b2a2856e369c80944d261c686bee0703c67fcf0bde1390fe650920bbed5f94525d9760da8ff5864f1a6553f100alice!"

func TestTicket(t *testing.T) {
	t.Parallel()
	const v1 = "aa9330a397e010c15f732ae177ed1f126553f100alice!"
	const v2 = "468dc346e595482389d311870a97daba499602d2bob%20smith!admin,editor!userid_type:int"
	dir := t.TempDir()
	sf := filepath.Join(dir, "secret")
	os.WriteFile(sf, []byte("s33kr1t\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		code     int
		out      []string // substrings of stdout
		errOut   string   // substring of stderr
		notInOut string
	}{
		{"make vector 1", []string{"make", "-secret", "s33kr1t", "-time", "1700000000", "alice"}, 0, []string{v1 + "\n"}, "", ""},
		{"make vector 2", []string{"make", "-secret", "s33kr1t", "-time", "1234567890", "-ip", "192.168.1.10", "-tokens", "admin,editor", "-userdata", "userid_type:int", "bob smith"}, 0, []string{v2 + "\n"}, "", ""},
		{"make sha256", []string{"make", "-secret", "s33kr1t", "-digest", "sha256", "-time", "1700000000", "alice"}, 0,
			[]string{"898f22cf8f1dd1d3dec4667a88ffe0e5d4f22204a5d627d94137346216b8214b6553f100alice!\n"}, "", ""},
		{"make secretfile", []string{"make", "-secretfile", sf, "-time", "1700000000", "alice"}, 0, []string{v1}, "", ""},
		{"make mod_auth_tkt refuses space", []string{"make", "-secret", "k", "-encoding", "mod_auth_tkt", "bob smith"}, 1, nil, "cannot be carried", ""},
		{"make bad token", []string{"make", "-secret", "k", "-tokens", "a!b", "alice"}, 1, nil, "token", ""},
		{"read valid", []string{"read", "-secret", "s33kr1t", v1}, 0, []string{`userid:    "alice"`, "time:      1700000000 (2023-11-14T22:13:20Z)", "valid:     yes"}, "", ""},
		{"read quoted", []string{"read", "-secret", "s33kr1t", `"` + v1 + `"`}, 0, []string{"valid:     yes"}, "", ""},
		{"read percent21", []string{"read", "-secret", "s33kr1t", strings.ReplaceAll(v1, "!", "%21")}, 0, []string{"valid:     yes", "raw:       " + v1}, "", ""},
		{"read base64", []string{"read", "-secret", "s33kr1t", base64.StdEncoding.EncodeToString([]byte(v1))}, 0, []string{"valid:     yes"}, "", ""},
		{"read tokens ip", []string{"read", "-secret", "s33kr1t", "-ip", "192.168.1.10", v2}, 0,
			[]string{`userid:    "bob smith"`, "tokens:    admin,editor", "userid_type: int", "valid:     yes"}, "", ""},
		{"read without ip", []string{"read", "-secret", "s33kr1t", v2}, 1, []string{"valid:     no: authtkt: digest signature is not correct", "give -ip"}, "", ""},
		{"read wrong secret", []string{"read", "-secret", "nope", v1}, 1, []string{"valid:     no"}, "", "532e0539"},
		{"read tampered", []string{"read", "-secret", "s33kr1t", strings.Replace(v1, "alice", "admin", 1)}, 1, []string{`userid:    "admin"`, "valid:     no"}, "", ""},
		{"read expired", []string{"read", "-secret", "s33kr1t", "-timeout", "1h", v1}, 1, []string{"valid:     no: authtkt: ticket expired"}, "", ""},
		{"read other digest", []string{"read", "-secret", "s33kr1t", "-digest", "md5", "898f22cf8f1dd1d3dec4667a88ffe0e5d4f22204a5d627d94137346216b8214b6553f100alice!"}, 1, []string{"valid with -digest sha256"}, "", ""},
		// Without -digest the digest is detected: the one whose signature
		// checks, else the ticket's length. Before, md5 was assumed and
		// a sha512 ticket printed a userid of 96 hex digits and a time
		// from 2043 first.
		{"read sha256 detected", []string{"read", "-secret", "s33kr1t", "898f22cf8f1dd1d3dec4667a88ffe0e5d4f22204a5d627d94137346216b8214b6553f100alice!"}, 0,
			[]string{"digest:    sha256 (detected: its signature checks) 898f22cf", "valid:     yes"}, "", ""},
		{"read sha512 by length", []string{"read", "-secret", "wrong-secret", sha512Ticket}, 1,
			[]string{`userid:    "alice"`, "time:      1700000000 ", "digest:    sha512 (detected from the ticket's length) ebae21e5", "valid:     no"}, "", "implausible"},
		{"read sha1 by length", []string{"read", "-secret", "wrong-secret", "5f4838081a2cf0a83d00d7849f9827cfafac670f6553f100alice!"}, 1,
			[]string{`userid:    "alice"`, "digest:    sha1 (detected from the ticket's length)"}, "", "implausible"},
		{"read md5 by length", []string{"read", "-secret", "wrong-secret", v1}, 1,
			[]string{`userid:    "alice"`, "digest:    md5 (detected from the ticket's length)"}, "", "implausible"},
		{"read hex userid by length", []string{"read", "-secret", "wrong-secret", "bd10947aec71b919b72248ff8b7691816553f1001234567890abcdef!"}, 1,
			[]string{`userid:    "1234567890abcdef"`, "digest:    md5 (detected from the ticket's length)"}, "", ""},
		{"read hex userid: checks", []string{"read", "-secret", "s33kr1t", "bd10947aec71b919b72248ff8b7691816553f1001234567890abcdef!"}, 0,
			[]string{`userid:    "1234567890abcdef"`, "digest:    md5 (detected: its signature checks)"}, "", ""},
		// An md5 ticket of a 36-digit hex userid also reads as sha256
		// with a plausible time (its userid's digits 24-32 are
		// 0x65432100, in 2023): the detection says so. Before, it printed
		// the userid "abcd" as sha256's with no word of md5.
		{"read hex userid: ambiguous", []string{"read", "-secret", "wrong-secret", "521b3b3de1e41dc6d0fbebe1734e96846553f1000123456789abcdef0123456765432100abcd!"}, 1,
			[]string{"digest:    sha256 (detected from the ticket's length, but md5 fits it too: give -digest to choose)"}, "", ""},
		{"read hex userid: -digest md5", []string{"read", "-secret", "wrong-secret", "-digest", "md5", "521b3b3de1e41dc6d0fbebe1734e96846553f1000123456789abcdef0123456765432100abcd!"}, 1,
			[]string{`userid:    "0123456789abcdef0123456765432100abcd"`, "time:      1700000000 "}, "", ""},
		{"read flags after the value", []string{"read", v2, "-secret", "s33kr1t", "-ip", "192.168.1.10"}, 0, []string{"valid:     yes"}, "", ""},
		{"read malformed", []string{"read", "-secret", "s", "garbage"}, 1, nil, "malformed", ""},
		{"no secret", []string{"read", v1}, 2, nil, "-secret", ""},
		{"bad digest", []string{"make", "-secret", "s", "-digest", "sha3", "a"}, 2, nil, "unknown digest", ""},
		{"bad ip", []string{"make", "-secret", "s", "-ip", "nope", "a"}, 2, nil, "not an IP", ""},
		{"no sub", nil, 2, nil, "usage", ""},
		// who ticket -h lists the flags (before: "flags:" and nothing).
		{"help", []string{"-h"}, 0, nil, "  -secretfile string", ""},
		{"no sub lists the flags", nil, 2, nil, "  -timeout duration", ""},
		{"near sub", []string{"mak", "-secret", "s", "a"}, 2, nil, `who ticket: unknown subcommand "mak" (did you mean "make"?); want make or read`, ""},
		{"short secret noted", []string{"make", "-secret", "s33kr1t", "-time", "1700000000", "alice"}, 0, []string{v1 + "\n"}, "the secret is 7 bytes; the authtkt plugin refuses secrets under 16 bytes unless allow_weak_secret", "s33kr1t"},
		{"long secret no note", []string{"make", "-secret", "0123456789abcdef0123456789abcdef", "-time", "1700000000", "alice"}, 0, []string{"0657859fd74376ba5ccb3ac2ebc8feef6553f100alice!\n"}, "", "note"},
		// A ticket of the userid "a\nb", made by repoze.who's
		// AuthTicket('s33kr1t', 'a\nb', '0.0.0.0', time=1700000000) (which
		// reads it back), is refused at parse.
		{"read LF userid", []string{"read", "-secret", "s33kr1t", "8f65a5c4027449eb63941fdb4d41194a6553f100a%0Ab!"}, 1, nil, "CR, LF or NUL", ""},
		{"two args", []string{"make", "-secret", "s", "a", "b"}, 2, nil, "exactly one", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := runTicket(tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &out, &errb)
			}
			for _, s := range tt.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &out)
				}
			}
			if tt.errOut != "" && !strings.Contains(errb.String(), tt.errOut) {
				t.Errorf("stderr lacks %q:\n%s", tt.errOut, &errb)
			}
			if tt.notInOut != "" && strings.Contains(out.String()+errb.String(), tt.notInOut) {
				t.Errorf("output holds %q", tt.notInOut)
			}
		})
	}
}

// TestTicketMakeRead: what make prints, read accepts.
func TestTicketMakeRead(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if runTicket([]string{"make", "-secret", "k", "-digest", "sha512", "-tokens", "a,b", "-userdata", "k=v", "a!b"}, &out, &errb) != 0 {
		t.Fatal(errb.String())
	}
	v := strings.TrimSpace(out.String())
	out.Reset()
	if code := runTicket([]string{"read", "-secret", "k", "-digest", "sha512", v}, &out, &errb); code != 0 || !strings.Contains(out.String(), `"a!b"`) {
		t.Fatalf("%d %s %s", code, &out, &errb)
	}
}
