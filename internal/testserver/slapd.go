package testserver

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The directory Slapd serves.
const (
	BaseDN         = "dc=example,dc=org"
	PeopleDN       = "ou=people," + BaseDN
	GroupsDN       = "ou=groups," + BaseDN
	AdminDN        = "cn=admin," + BaseDN // the rootdn
	AdminPassword  = "admin-pass"
	ReaderDN       = "cn=reader," + BaseDN // a service account for search-then-bind
	ReaderPassword = "reader-pass"
)

// SeedUsers are the uids Slapd loads with SlapdOptions.Seed; each one's
// password is uid + "-pass". "star*(user)" exists to show filter escaping.
var SeedUsers = []string{"alice", "bob", "carol", "dave", "eve", "star*(user)"}

// SeedGroups are the groups (groupOfNames under GroupsDN) loaded with
// SlapdOptions.Seed, by cn, with their member uids. eve is in none.
var SeedGroups = map[string][]string{
	"admins":  {"alice"},
	"editors": {"alice", "bob"},
	"users":   {"alice", "bob", "carol", "dave", "star*(user)"},
}

// SlapdOptions configures Slapd.
type SlapdOptions struct {
	// Hash is how userPassword values are stored: "ssha" (default, cheap),
	// "crypt" (SHA-512 crypt), "argon2" (slapd's argon2 module, m=4096
	// t=3, ≈ 5.8 ms a bind: a slow directory) or "cleartext".
	Hash string
	// Seed loads the standard directory: ou=people with SeedUsers (mail,
	// cn, uidNumber...), ou=groups with SeedGroups, and the reader account.
	// Without it only the suffix entry, ou=people, ou=groups and the reader
	// exist, and the test loads its own entries with LDIF.
	Seed bool
	// LDIF is loaded (ldapmodify -a as the admin) after the seed.
	LDIF string
	// LogStats runs slapd with "-d stats": Output shows every operation,
	// with the filters as slapd received them.
	LogStats bool
	// TLS makes a throw-away CA and server certificate, serves StartTLS
	// on the ldap:// port and ldaps:// on a second port (Server.LDAPSURL);
	// Server.CAFile is the CA's PEM file.
	TLS bool
}

// Slapd starts OpenLDAP's slapd (mdb backend, memberof overlay) with
// suffix dc=example,dc=org, rootdn AdminDN/AdminPassword and the reader
// account ReaderDN/ReaderPassword. Server.URL is its ldap:// URL.
// userPassword is readable by nobody and usable for binds; everything else
// is readable by anyone.
func Slapd(t testing.TB, opts SlapdOptions) *Server {
	t.Helper()
	bin := find(t, "slapd", "slapd", "/usr/sbin")
	modify := find(t, "ldapmodify", "ldap-utils")
	hash := opts.Hash
	if hash == "" {
		hash = "ssha"
	}
	switch hash {
	case "ssha", "crypt", "argon2", "cleartext":
	default:
		t.Fatalf("testserver: SlapdOptions.Hash %q: want ssha, crypt, argon2 or cleartext", hash)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	modules := "/usr/lib/ldap"
	for _, d := range []string{"/usr/lib/ldap", "/usr/lib/x86_64-linux-gnu/ldap", "/usr/lib/aarch64-linux-gnu/ldap", "/usr/libexec/openldap"} {
		if _, err := os.Stat(filepath.Join(d, "back_mdb.la")); err == nil {
			modules = d
			break
		}
	}
	var tlsConf string
	var caFile string
	ldapsPort := 0
	var repick func()
	if opts.TLS {
		caFile, tlsConf = makeTLS(t, dir)
		repick = func() { ldapsPort = FreePort(t) }
	}
	argon := ""
	if hash == "argon2" {
		argon = "moduleload argon2"
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath %[1]s
moduleload back_mdb
moduleload memberof
%[2]s
pidfile %[3]s/slapd.pid
argsfile %[3]s/slapd.args
%[4]s
database mdb
maxsize 33554432
suffix "%[5]s"
rootdn "%[6]s"
rootpw %[7]s
directory %[3]s/db
index objectClass eq
index uid,cn,mail eq
index member eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
`, modules, argon, dir, tlsConf, BaseDN, AdminDN, AdminPassword)
	confFile := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	debug := "0"
	if opts.LogStats {
		debug = "stats"
	}
	s := start(t, "slapd", bin, dir, func(port int) []string {
		urls := fmt.Sprintf("ldap://127.0.0.1:%d/", port)
		if ldapsPort != 0 {
			urls += fmt.Sprintf(" ldaps://127.0.0.1:%d/", ldapsPort)
		}
		return []string{"-d", debug, "-f", confFile, "-h", urls}
	}, repick)
	s.URL = "ldap://" + s.Addr
	if ldapsPort != 0 {
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(ldapsPort)
		s.CAFile = caFile
	}
	s.ldapmodify = modify
	s.hash = hash

	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example Org\ndc: example\n\n", BaseDN)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\nou: people\n\n", PeopleDN)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\nou: groups\n\n", GroupsDN)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: %s\n\n",
		ReaderDN, sshaHash(ReaderPassword))
	if opts.Seed {
		for i, u := range SeedUsers {
			b.WriteString(s.UserLDIF(u, u+"-pass", 1001+i))
		}
		for _, g := range []string{"admins", "editors", "users"} {
			fmt.Fprintf(&b, "dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n", g, GroupsDN, g)
			for _, u := range SeedGroups[g] {
				fmt.Fprintf(&b, "member: %s\n", UserDN(u))
			}
			b.WriteString("\n")
		}
	}
	s.LDIF(b.String())
	if opts.LDIF != "" {
		s.LDIF(opts.LDIF)
	}
	return s
}

// UserDN returns uid=UID,ou=people,dc=example,dc=org, with UID escaped as
// RFC 4514 asks.
func UserDN(uid string) string { return "uid=" + escapeDN(uid) + "," + PeopleDN }

func escapeDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// UserLDIF returns the LDIF of an inetOrgPerson/posixAccount entry under
// ou=people with the given uid, password (hashed as the server stores
// them) and uidNumber; mail is uid@example.org, cn "Uid Example".
func (s *Server) UserLDIF(uid, password string, uidNumber int) string {
	s.t.Helper()
	cn := uid
	if cn != "" {
		cn = strings.ToUpper(cn[:1]) + cn[1:]
	}
	return fmt.Sprintf("dn: %s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: %s\ncn: %s Example\nsn: Example\ngivenName: %s\nmail: %s@example.org\nuidNumber: %d\ngidNumber: 100\nhomeDirectory: /home/%d\nuserPassword: %s\n\n",
		UserDN(uid), uid, cn, cn, strings.Map(func(r rune) rune {
			if strings.ContainsRune("*()", r) {
				return -1
			}
			return r
		}, uid), uidNumber, uidNumber, s.HashPassword(password))
}

// HashPassword returns password as this server stores userPassword values
// ({SSHA}, {CRYPT}, {ARGON2} or clear text).
func (s *Server) HashPassword(password string) string {
	s.t.Helper()
	switch s.hash {
	case "cleartext":
		return password
	case "crypt":
		return s.slappasswd("-h", "{CRYPT}", "-c", "$6$%.16s", "-s", password)
	case "argon2":
		return s.slappasswd("-o", "module-load=argon2", "-h", "{ARGON2}", "-s", password)
	default:
		return sshaHash(password)
	}
}

func (s *Server) slappasswd(args ...string) string {
	s.t.Helper()
	bin := find(s.t, "slappasswd", "slapd", "/usr/sbin")
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		s.t.Fatalf("testserver: slappasswd: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func sshaHash(password string) string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	h := sha1.Sum(append([]byte(password), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// SetPassword replaces the userPassword of the entry dn.
func (s *Server) SetPassword(dn, password string) {
	s.t.Helper()
	s.LDIF(fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: userPassword\nuserPassword: %s\n", dn, s.HashPassword(password)))
}

// LDIF applies ldif as the admin with ldapmodify -a: entries without a
// changetype are added. A failure ends the test.
func (s *Server) LDIF(ldif string) {
	s.t.Helper()
	if s.ldapmodify == "" {
		s.t.Fatal("testserver: LDIF works on a Slapd server only")
	}
	cmd := exec.Command(s.ldapmodify, "-x", "-a", "-H", s.URL, "-D", AdminDN, "-w", AdminPassword)
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("testserver: ldapmodify: %v\n%s\n--- LDIF ---\n%s", err, out, ldif)
	}
}
