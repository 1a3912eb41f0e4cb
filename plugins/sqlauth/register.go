package sqlauth

import (
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
	// A sqlite database file is a file option like any other:
	// relative to who.toml, "~/" the home directory.
	if o.Driver == "sqlite" {
		o.DSN = sqliteDSN(o.DSN, spec)
	}
	return New(o)
}

// sqliteDSN resolves the database file of a sqlite DSN with spec.Path,
// keeping its ?query; "file:" URIs and ":memory:" keep their meaning.
func sqliteDSN(dsn string, spec who.PluginSpec) string {
	if dsn == "" || strings.HasPrefix(dsn, ":memory:") || strings.HasPrefix(dsn, "file:") {
		return dsn
	}
	file, query, hasQuery := strings.Cut(dsn, "?")
	out := spec.Path(file)
	if hasQuery {
		out += "?" + query
	}
	return out
}
