package sqlauth

import (
	"path/filepath"
	"strings"

	"github.com/gowho/gowho/who"
)

// The original's entry points, accepted as `use` aliases.
const (
	aliasAuth = "repoze.who.plugins.sql:make_authenticator_plugin"
	aliasMD   = "repoze.who.plugins.sql:make_metadata_plugin"
)

func init() {
	who.Register("sqlauth", factory, aliasAuth, aliasMD)
}

func factory(spec who.PluginSpec) (any, error) {
	var o Options
	// repoze.who's default_password_compare compared clear text: under
	// its alias allow_plain defaults to true, and "allow_plain = false"
	// still turns it off. (Decode leaves keys that are not set alone.)
	if spec.Use == aliasAuth {
		o.AllowPlain = true
	}
	if err := spec.Decode(&o); err != nil {
		return nil, err
	}
	// make_metadata_plugin's query is the metadata query.
	if spec.Use == aliasMD && o.MetadataQuery == "" {
		o.MetadataQuery, o.Query = o.Query, ""
	}
	// A relative sqlite file is relative to who.toml.
	if o.Driver == "sqlite" && spec.Dir != "" {
		o.DSN = sqliteDSN(o.DSN, spec.Dir)
	}
	return New(o)
}

// sqliteDSN resolves a relative database file against dir; "file:" URIs
// and ":memory:" keep their meaning.
func sqliteDSN(dsn, dir string) string {
	if dsn == "" || strings.HasPrefix(dsn, ":memory:") || strings.HasPrefix(dsn, "file:") {
		return dsn
	}
	path, query, _ := strings.Cut(dsn, "?")
	if filepath.IsAbs(path) {
		return dsn
	}
	out := filepath.Join(dir, path)
	if query != "" {
		out += "?" + query
	}
	return out
}
