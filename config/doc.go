// Package config loads a who.toml into a ready gowho chain: it builds
// every declared plugin with its registered factory, resolves the plugins
// that refer to others by name, checks every stage list, and returns the
// who.Middleware with the outer middleware (session managers) around it.
//
//	chain, err := config.Load("who.toml", config.Options{})
//	if err != nil {
//		log.Fatal(err) // every mistake of the file, one per line
//	}
//	defer chain.Close()
//	http.ListenAndServe(addr, chain.Handler(app))
//
// Import the plugins the file uses, usually all of them:
//
//	import _ "github.com/gowho/gowho/plugins/all"
//
// # Format
//
//	[general]
//	request_classifier  = "default"  # registered classifier, or a declared plugin implementing who.Classifier
//	challenge_decider   = "default"  # "default" | "passthrough" | registered decider | plugin implementing who.Decider
//	remote_user_key     = ""         # header set to the userid for the handler (who.Config.RemoteUserKey)
//	trusted_user_header = ""         # header a trusted proxy fills (who.Config.TrustedUserHeader)
//	failure_log_interval = "10s"     # repeated plugin failures summarised per interval (who.Config.FailureLogInterval)
//	trusted_proxies = []             # proxies whose Forwarded / X-Forwarded-* are believed (who.Config.TrustedProxies)
//
//	[plugin.basicauth]               # a plugin named "basicauth"
//	use = "basicauth"                # registered name or alias (repoze.who entry points are aliases)
//	realm = "${WHO_REALM}"           # the plugin's own options; ${NAME} reads the environment
//
//	[plugin.htpasswd]
//	use = "htpasswd"
//	filename = "passwd"              # relative paths are relative to the file (PluginSpec.Dir)
//
//	[identifiers]
//	plugins = ["basicauth;browser,dav", "auth_tkt"]
//	[authenticators]
//	plugins = ["htpasswd", "ldap;unused"]
//	[challengers]
//	plugins = ["basicauth"]
//	[mdproviders]
//	plugins = []
//
// Every [plugin.NAME] is built, in file order, and can be referred to by
// name whether or not a stage lists it. A stage list may also name a
// registered plugin that has no section: it is built once with no options
// under that name.
//
// A stage entry is "name" (every request), "name;cls" or "name;a,b" (the
// request's classification must be one of them, exactly), or
// "name;unused" (built and referable, never run: repoze.who's trick, no
// longer needed but accepted). An empty classification, a space, a second
// ";" and a name listed twice in one stage are errors, and so is a
// classification the request classifier never returns: the default one
// returns browser, dav and xmlpost; a classifier plugin declares its words
// with who.ClassifierWords; one that declares none accepts any word.
//
// Options are decoded strictly (PluginSpec.Decode): an unknown key is an
// error with a did-you-mean, a value of the wrong type is an error naming
// the key, and a who.Duration reads "5m" or a number of seconds. A section
// with keys whose factory never calls Decode is an error too.
//
// In every string value, also inside arrays and inline tables, ${NAME} is
// replaced by the environment variable NAME (Options.LookupEnv); an unset
// variable is an error, and $${ is a literal ${.
//
// # Loading
//
// Loading has two phases. First every plugin is built. Then every plugin
// implementing who.Resolver has its References checked (a missing name, a
// reference to itself or a cycle is an error at the referring key) and is
// resolved after the plugins it refers to; then every who.Validator is
// validated. Last, each stage entry must implement its stage's interface,
// and who.New builds the middleware. If anything fails, the io.Closer
// plugins already built are closed, in reverse order.
//
// # Errors
//
// Load and Parse report every mistake of a file at once, as errors.Join of
// *Error sorted by line, one line each:
//
//	who.toml:12: [plugin.ldap] (use = "ldap"): unknown key "bsae_dn" (did you mean "base_dn"?)
//	who.toml:30: [identifiers]: unknown plugin "basicuath" (did you mean "basicauth"?)
//
// A factory that returns a *who.OptionError gets its message pointed at
// the key it names, and one that returns errors.Join of several gets each
// at its key. A first mistake hides no other of the same plugin: after a
// wrong option the factory is called again without the wrong keys, to
// report its checks of the others (the plugins built so are closed, and
// such a message ends with the keys left out, as it may follow from their
// absence: `(found with "store" left out)`). A plugin that failed to
// build still has its stage entries checked when its type is known: from
// such a call, because the factory returned a nil pointer of its type
// with its error ((*Plugin)(nil), err), or from who.RegisterKind. The
// sentinel errors (ErrUnknownKey, ErrWrongType, ErrUnsetVariable,
// ErrBadEntry, ErrReference, ErrSyntax, who.ErrUnknownPlugin,
// who.ErrWrongStage) let callers test with errors.Is.
//
// # Extra sections
//
// A package may add a top-level table of its own with RegisterSection
// (package gateway registers [gateway]): its SectionFunc decodes it with
// Section.Decode, as strictly as a plugin's options, and its mistakes are
// reported like every other, at their lines ("rule[2].path" is the third
// [[gateway.rule]]). Chain.Section returns what it built. A table nobody
// registered is an unknown section.
//
// docs/config.md is the full reference.
package config
