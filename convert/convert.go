package convert

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Options tune Convert.
type Options struct {
	// Source names the who.ini in the header comment and in problems.
	Source string
	// Here is the value ParseINI was given for %(here)s (the who.ini's
	// directory). Values built from %(here)s become paths relative to
	// OutDir, because gowho resolves plugin paths against who.toml's
	// directory.
	Here string
	// OutDir is the directory the who.toml will be written to; "" means
	// Here.
	OutDir string
}

// A Problem is something of the who.ini that Convert could not carry over
// (written as a commented line), or, when Warning is set, carried over
// with a behaviour the user should review.
type Problem struct {
	Source  string // the who.ini's name
	Line    int    // 0 when unknown
	Section string // "plugin:auth_tkt", "general", ...; "" for the file
	Key     string // "" for the whole section
	Msg     string
	Warning bool // converted; only a note
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Source)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Section != "" {
		fmt.Fprintf(&b, "[%s] ", p.Section)
	}
	if p.Key != "" {
		fmt.Fprintf(&b, "%s: ", p.Key)
	}
	if p.Warning {
		b.WriteString("note: ")
	} else {
		b.WriteString("not converted: ")
	}
	b.WriteString(p.Msg)
	return commentText(b.String())
}

// Failed reports whether problems hold anything not converted (as
// opposed to notes only): `who convert` then exits with status 2.
func Failed(problems []Problem) bool {
	for _, p := range problems {
		if !p.Warning {
			return true
		}
	}
	return false
}

// The stage sections, in order.
var stages = []string{"identifiers", "authenticators", "challengers", "mdproviders"}

// hereMark stands for %(here)s while converting.
const hereMark = "\x00gowho-here\x00"

// line is one line of a [plugin.NAME] section in the output.
type line struct {
	key, val  string // val is a TOML literal
	comment   string
	commented bool // written as "# key = val"
	note      bool // a comment-only line
}

// plugin is one converted [plugin:NAME].
type plugin struct {
	name    string
	sec     *Section
	use     string   // the original use
	target  string   // the gowho use; "" when dropped
	stages  []string // the stages gowho's plugin can be listed in
	dropped string   // why the whole section is commented out
	gone    string   // dropped because what its use spoke is gone: where to go instead (replaced)
	lines   []line
	refs    map[string]string // option key -> referenced plugin name
	extra   []string          // extra sections written after this one (TOML text)
	st      map[string]any    // converter state
	unknown string            // why an unknown option is not converted
	inlined string            // the dotted name a stage listed, when the section was made from inlineEntries
	classes map[string]string // stage -> the classifier the Python class declared (spec.classes)
}

// An inlineEntry converts a dotted name that a stage lists directly, with
// no [plugin:NAME] section (repoze.who resolved the name to a plugin
// object): Convert declares it as a plugin called name (made unique), as
// if the who.ini had a section with use and values, and lists that.
type inlineEntry struct {
	name   string            // the declared plugin's name
	use    string            // a key of specs
	values map[string]string // the options of the made-up section
}

// inlineEntries holds the dotted names converted as inlineEntry, keyed
// by the name as the stage lists it.
var inlineEntries = map[string]inlineEntry{}

type conv struct {
	ini     *INI
	opts    Options
	relHere string
	probs   []Problem
	plugins []*plugin
	byName  map[string]*plugin
	used    map[string]bool   // names taken in the output
	inline  map[string]string // dotted stage entry -> the plugin declared for it
	// defaultUnknown: [DEFAULT] keys -> the plugins that do not know them.
	defaultUnknown map[string][]string
	// pyClassifier is [general]'s request_classifier when it was not
	// converted (gowho's "default" runs instead).
	pyClassifier string
	listed       map[string]int // stage -> entries written (not commented)
}

func (c *conv) problem(sec *Section, key, msg string, warning bool) {
	p := Problem{Source: c.opts.Source, Key: key, Msg: msg, Warning: warning}
	if sec != nil {
		p.Section = sec.Name
		p.Line = sec.Line
		if key != "" {
			if l := sec.KeyLine(key); l > 0 {
				p.Line = l
			} else if l := c.ini.Defaults.KeyLine(key); l > 0 {
				p.Line = l
			}
		}
	}
	c.probs = append(c.probs, p)
}

// Convert writes ini as a who.toml. It never fails: what it cannot carry
// over is written as a commented line and listed in problems (see Failed).
// The output always parses as TOML.
func Convert(ini *INI, opts Options) (toml []byte, problems []Problem) {
	if opts.Source == "" {
		opts.Source = "who.ini"
	}
	c := &conv{ini: ini, opts: opts, byName: map[string]*plugin{}, used: map[string]bool{}}
	c.relHere = relDir(opts.Here, opts.OutDir)

	// Interpolate %(here)s as a marker, so paths can be made relative.
	if ini.Defaults != nil && ini.Defaults.line["here"] == 0 {
		if old, ok := ini.Defaults.raw["here"]; ok {
			ini.Defaults.raw["here"] = hereMark
			defer func() { ini.Defaults.raw["here"] = old }()
		}
	}

	var out strings.Builder
	fmt.Fprintf(&out, "# who.toml converted by `who convert` from %s (a repoze.who who.ini).\n", commentText(opts.Source))
	out.WriteString("# Lines starting with \"# not converted\" or carrying a \"note:\" need a review.\n")

	for _, s := range ini.Sections {
		if name, ok := strings.CutPrefix(s.Name, "plugin:"); ok {
			c.used[name] = true
		}
	}
	for _, s := range ini.Sections {
		if name, ok := strings.CutPrefix(s.Name, "plugin:"); ok {
			c.plugins = append(c.plugins, c.convertPlugin(name, s))
			continue
		}
		c.declareInline(s)
		switch s.Name {
		case "general":
		default:
			if !contains(stages, s.Name) {
				c.problem(s, "", "section ignored (repoze.who ignores it too)", true)
			}
		}
	}
	for _, p := range c.plugins {
		if p.dropped == "" {
			c.byName[p.name] = p
		}
	}
	c.cascade()
	for _, k := range ini.Defaults.Keys {
		if names := c.defaultUnknown[k]; len(names) > 0 {
			c.problem(ini.Defaults, k, "repoze.who passed every [DEFAULT] key to every plugin; not an option of "+strings.Join(names, ", ")+" (left there as a comment)", true)
		}
	}

	c.writeGeneral(&out)
	for _, p := range c.plugins {
		c.writePlugin(&out, p)
	}
	for _, st := range stages {
		c.writeStage(&out, st)
	}
	c.checkChain()
	sort.SliceStable(c.probs, func(i, j int) bool { return c.probs[i].Line < c.probs[j].Line })
	return []byte(out.String()), c.probs
}

// checkChain reports a file that is no who.ini and an output chain that
// can log no one in.
func (c *conv) checkChain() {
	whoINI := false
	for _, s := range c.ini.Sections {
		if strings.HasPrefix(s.Name, "plugin:") || contains(stages, s.Name) {
			whoINI = true
		}
	}
	switch {
	case !whoINI:
		c.problem(nil, "", "not a repoze.who who.ini: no [plugin:NAME], [identifiers], [authenticators], [challengers] or [mdproviders] section; give the file the application's who.config_file names", false)
	case c.listed["identifiers"]+c.listed["authenticators"] == 0:
		c.problem(nil, "", "the converted chain lists no identifier and no authenticator: it would log no one in; declare and list gowho plugins for what was dropped (see the lines above)", false)
	}
}

// declareInline converts the dotted names of inlineEntries that stage
// section s lists without a [plugin:NAME] of that name.
func (c *conv) declareInline(s *Section) {
	if !contains(stages, s.Name) {
		return
	}
	v, ok, err := c.ini.Get(s, "plugins")
	if !ok || err != nil {
		return
	}
	for _, tok := range strings.Fields(v) {
		dotted, _, _ := strings.Cut(tok, ";")
		e, known := inlineEntries[dotted]
		if !known || c.inline[dotted] != "" || c.ini.Section("plugin:"+dotted) != nil {
			continue
		}
		name := e.name
		for i := 2; c.used[name]; i++ {
			name = fmt.Sprintf("%s%d", e.name, i)
		}
		c.used[name] = true
		if c.inline == nil {
			c.inline = map[string]string{}
		}
		c.inline[dotted] = name
		line := s.KeyLine("plugins")
		sec := newSection("plugin:"+name, line)
		sec.set("use", e.use, line)
		keys := make([]string, 0, len(e.values))
		for k := range e.values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sec.set(k, e.values[k], line)
		}
		p := c.convertPlugin(name, sec)
		p.inlined = dotted
		c.plugins = append(c.plugins, p)
	}
}

// relDir is here relative to outDir ("." when they are the same).
func relDir(here, outDir string) string {
	if here == "" {
		return "."
	}
	if outDir == "" {
		return "."
	}
	r, err := filepath.Rel(outDir, here)
	if err != nil {
		return here
	}
	return filepath.ToSlash(r)
}

// get returns key's interpolated value in s (own or from [DEFAULT]), with
// %(here)s made relative to the output's folder. An interpolation error is
// a problem, and ok is false.
func (c *conv) get(s *Section, key string) (string, bool) {
	v, ok, _, err := c.ini.get(s, key)
	if err != nil {
		c.problem(s, key, err.Error(), false)
		return "", false
	}
	if !ok {
		return "", false
	}
	if strings.Contains(v, hereMark) {
		if c.relHere == "." {
			v = strings.ReplaceAll(v, hereMark+"/", "")
			v = strings.ReplaceAll(v, hereMark, ".")
		} else {
			v = strings.ReplaceAll(v, hereMark, c.relHere)
		}
	}
	return v, true
}

// cascade drops plugins that refer to dropped or missing plugins, until
// nothing changes.
func (c *conv) cascade() {
	for changed := true; changed; {
		changed = false
		for _, p := range c.plugins {
			if p.dropped != "" {
				continue
			}
			keys := make([]string, 0, len(p.refs))
			for k := range p.refs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ref := p.refs[k]
				if _, ok := c.byName[ref]; ok {
					continue
				}
				why := fmt.Sprintf("%s names %q, which is not a converted [plugin:%s]", k, ref, ref)
				p.dropped = why
				c.problem(p.sec, k, why, false)
				delete(c.byName, p.name)
				changed = true
				break
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// badName mirrors gowho's rule for plugin names.
func badName(name string) bool {
	return name == "" || strings.ContainsAny(name, ";,") || strings.IndexFunc(name, unicode.IsSpace) >= 0
}

func (c *conv) convertPlugin(name string, s *Section) *plugin {
	p := &plugin{name: name, sec: s, refs: map[string]string{}}
	c.used[name] = true
	if badName(name) {
		p.dropped = "a gowho plugin name must not be empty or contain \";\", \",\" or spaces"
		c.problem(s, "", p.dropped, false)
		return p
	}
	use, ok := c.get(s, "use")
	if !ok {
		if _, has := s.Raw("use"); !has {
			p.dropped = "no use: repoze.who ignores such a section"
			c.problem(s, "", p.dropped, true)
		} else {
			p.dropped = "use could not be read"
		}
		return p
	}
	use = strings.TrimSpace(use)
	p.use = use
	spec, ok := specs[use]
	if r, gone := replaced[use]; gone && !ok {
		p.dropped, p.gone = "use = "+use+": "+r.note, r.short
		c.problem(s, "use", r.note, true)
		return p
	}
	if !ok {
		why := "use = " + use + " is Python-only: no gowho plugin implements it"
		if i := strings.LastIndexByte(use, '.'); i > 0 && !strings.Contains(use, ":") {
			why = "use = " + use + " has no colon: repoze.who 2.x imports it as a module and fails at load"
			var eps []string
			for u := range specs {
				if strings.HasPrefix(u, use[:i]+":") {
					eps = append(eps, u)
				}
			}
			sort.Strings(eps)
			if len(eps) > 0 {
				why += " (entry points: " + strings.Join(eps, ", ") + ")"
			}
		}
		p.dropped = why
		c.problem(s, "use", why, false)
		return p
	}
	p.target = spec.target
	p.stages = targetStages[spec.target]
	p.classes = spec.classes
	p.unknown = spec.unknown
	if spec.note != "" {
		c.problem(s, "use", spec.note, spec.noteWarning)
	}
	seen := map[string]bool{}
	for _, k := range c.ini.Items(s) {
		if k == "here" || k == "use" {
			continue
		}
		seen[k] = true
		_, own := s.Raw(k)
		val, ok := c.get(s, k)
		if !ok {
			p.state()["refused:"+k] = true
			if k == "secret" {
				// Not even commented out: it is a secret.
				p.lines = append(p.lines, line{note: true, comment: "not converted: secret: bad interpolation (see the report)"})
				continue
			}
			p.lines = append(p.lines, line{key: tomlKey(k), val: tomlString(rawOf(c.ini, s, k)), commented: true, comment: "not converted: bad interpolation"})
			continue
		}
		o := &optCtx{c: c, p: p, key: k, val: val, own: own}
		if buildoutRef.MatchString(val) {
			o.buildout()
			continue
		}
		if strings.Contains(val, "${") && k != "secret" {
			o.note("the value holds \"${\", which repoze.who read as it is: kept as that text (written $${, so gowho's ${NAME} expansion leaves it alone); if an environment variable was meant, write ${NAME} in the who.toml")
		}
		if h, ok := spec.opts[k]; ok {
			h(o)
		} else {
			o.unknown()
		}
	}
	if spec.finish != nil {
		spec.finish(&optCtx{c: c, p: p}, seen)
	}
	return p
}

func rawOf(ini *INI, s *Section, k string) string {
	if v, ok := s.Raw(k); ok {
		return v
	}
	v, _ := ini.Defaults.Raw(k)
	return v
}

// optCtx is one option being converted.
type optCtx struct {
	c   *conv
	p   *plugin
	key string
	val string
	own bool // in the section itself, not inherited from [DEFAULT]
}

func (o *optCtx) from() string {
	if o.own {
		return ""
	}
	return "from [DEFAULT]; "
}

// set writes key = val (a TOML literal) with an optional comment.
func (o *optCtx) set(key, val, comment string) {
	if !o.own {
		comment = strings.TrimSuffix("from [DEFAULT]; "+comment, "; ")
	}
	o.p.lines = append(o.p.lines, line{key: tomlKey(key), val: val, comment: comment})
}

// setDefault writes an option the ini did not set, carrying the original
// factory's default.
func (o *optCtx) setDefault(key, val, comment string) {
	o.p.lines = append(o.p.lines, line{key: tomlKey(key), val: val, comment: comment})
}

// drop writes the option commented out, as a problem.
func (o *optCtx) drop(why string) {
	o.p.lines = append(o.p.lines, line{key: tomlKey(o.key), val: tomlString(o.val), commented: true, comment: "not converted: " + o.from() + why})
	o.c.problem(o.p.sec, o.key, why, false)
}

// unknown handles an option the gowho plugin does not have. Inherited
// [DEFAULT] keys are commented as a note only.
func (o *optCtx) unknown() {
	why := "not an option of gowho's " + o.p.target
	if o.p.unknown != "" {
		why = o.p.unknown
	}
	if !o.own {
		o.p.lines = append(o.p.lines, line{key: tomlKey(o.key), val: tomlString(o.val), commented: true, comment: "from [DEFAULT], which repoze.who passed to every plugin; " + why})
		if o.c.defaultUnknown == nil {
			o.c.defaultUnknown = map[string][]string{}
		}
		o.c.defaultUnknown[o.key] = append(o.c.defaultUnknown[o.key], o.p.name)
		return
	}
	o.drop(why)
}

// buildoutRef matches a zc.buildout ${section:option} substitution.
var buildoutRef = regexp.MustCompile(`\$\{[^}:\s]*:[^}\s]+\}`)

// buildout refuses a value holding a buildout ${section:option}: the
// who.ini is a buildout template, whose placeholder buildout replaced when
// it wrote the real file. gowho's own ${NAME} expansion would read it as
// an environment variable, so it is not kept.
func (o *optCtx) buildout() {
	o.p.state()["refused:"+o.key] = true
	why := "a zc.buildout ${section:option} placeholder: this who.ini is a buildout template, the value comes from buildout.cfg; " +
		"convert the who.ini buildout generated, or write the value here (gowho's own ${NAME} would read it as an environment variable, so it is not kept)"
	if o.key == "secret" {
		o.p.lines = append(o.p.lines, line{note: true, comment: "not converted: " + o.from() + "secret: " + why})
		o.c.problem(o.p.sec, o.key, why, false)
		return
	}
	o.drop(why)
}

// note records a converted option whose behaviour needs a review.
func (o *optCtx) note(msg string) { o.c.problem(o.p.sec, o.key, msg, true) }

func (c *conv) writePlugin(out *strings.Builder, p *plugin) {
	out.WriteString("\n")
	comment := ""
	if p.sec != nil {
		comment = "[" + p.sec.Name + "]"
	}
	if p.inlined != "" {
		comment = "listed as " + p.inlined + ", with no [plugin:] section"
	}
	if p.dropped != "" {
		fmt.Fprintf(out, "# not converted: %s\n", commentText(p.dropped))
		fmt.Fprintf(out, "# [plugin.%s]  # %s\n", commentText(tomlKey(p.name)), commentText(comment))
		if p.use != "" {
			fmt.Fprintf(out, "# use = %s\n", commentText(tomlString(p.use)))
		}
		for _, k := range c.ini.Items(p.sec) {
			if k == "here" || k == "use" {
				continue
			}
			fmt.Fprintf(out, "# %s = %s\n", commentText(tomlKey(k)), commentText(tomlString(rawOf(c.ini, p.sec, k))))
		}
		return
	}
	fmt.Fprintf(out, "[plugin.%s]  # %s\n", tomlKey(p.name), commentText(comment))
	fmt.Fprintf(out, "use = %s  # %s\n", tomlString(p.target), commentText(p.use))
	for _, l := range p.lines {
		switch {
		case l.note:
			fmt.Fprintf(out, "# %s\n", commentText(l.comment))
		case l.commented:
			fmt.Fprintf(out, "# %s = %s", commentText(l.key), commentText(l.val))
			if l.comment != "" {
				fmt.Fprintf(out, "  # %s", commentText(l.comment))
			}
			out.WriteString("\n")
		default:
			fmt.Fprintf(out, "%s = %s", l.key, l.val)
			if l.comment != "" {
				fmt.Fprintf(out, "  # %s", commentText(l.comment))
			}
			out.WriteString("\n")
		}
	}
	for _, e := range p.extra {
		out.WriteString(e)
	}
}

// General section.

// defaultClasses are what repoze.who's default_request_classifier (and
// gowho's "default") return.
var defaultClasses = []string{"browser", "dav", "xmlpost"}

var classifiers = map[string]string{
	"repoze.who.classifiers:default_request_classifier": "default",
}

var deciders = map[string]string{
	"repoze.who.classifiers:default_challenge_decider":     "default",
	"repoze.who.classifiers:passthrough_challenge_decider": "passthrough",
}

func (c *conv) writeGeneral(out *strings.Builder) {
	s := c.ini.Section("general")
	out.WriteString("\n[general]")
	if s != nil {
		out.WriteString("  # [general]")
	}
	out.WriteString("\n")
	if s == nil {
		out.WriteString("# no [general] in the who.ini: repoze.who's middleware required request_classifier and challenge_decider\n")
		out.WriteString("request_classifier = \"default\"\nchallenge_decider = \"default\"\n")
		c.problem(nil, "", "no [general] section: repoze.who's middleware refused to start without request_classifier and challenge_decider; gowho's defaults are used", true)
		return
	}
	c.generalName(out, s, "request_classifier", classifiers, "repoze.who.classifiers:default_request_classifier")
	c.generalName(out, s, "challenge_decider", deciders, "repoze.who.classifiers:default_challenge_decider")
	if v, ok := c.get(s, "remote_user_key"); ok {
		v = strings.TrimSpace(v)
		switch {
		case v == "REMOTE_USER":
			out.WriteString("# remote_user_key = \"Remote-User\"  # repoze.who set the REMOTE_USER environ key; gowho keeps the user in the request context (who.UserID).\n")
			out.WriteString("# Uncomment to also set a Remote-User request header for a proxied CGI/WSGI application (docs/concepts.md, \"REMOTE_USER in Go\").\n")
		case headerName(v) != "":
			h := headerName(v)
			fmt.Fprintf(out, "remote_user_key = %s  # repoze.who's environ key %s; gowho sets this request header (and keeps the user in the request context)\n", tomlString(h), commentText(v))
			c.problem(s, "remote_user_key", fmt.Sprintf("environ key %q becomes the request header %q", v, h), true)
		default:
			fmt.Fprintf(out, "# remote_user_key = %s  # not converted: not usable as a request header name\n", commentText(tomlString(v)))
			c.problem(s, "remote_user_key", fmt.Sprintf("%q is not usable as a request header name", v), false)
		}
	}
	for _, k := range c.ini.Items(s) {
		switch k {
		case "here", "request_classifier", "challenge_decider", "remote_user_key":
			continue
		}
		v := rawOf(c.ini, s, k)
		if _, own := s.Raw(k); !own {
			continue // [DEFAULT] keys mean nothing to [general]
		}
		fmt.Fprintf(out, "# %s = %s  # not converted: repoze.who ignores this key too\n", commentText(tomlKey(k)), commentText(tomlString(v)))
		c.problem(s, k, "unknown [general] key (repoze.who ignores it too)", true)
	}
}

// headerName turns an environ key into a header name: HTTP_X_USER ->
// X-User, X_REMOTE_USER -> X-Remote-User. "" when it cannot be one.
func headerName(key string) string {
	key = strings.TrimPrefix(key, "HTTP_")
	if key == "" {
		return ""
	}
	parts := strings.FieldsFunc(key, func(r rune) bool { return r == '_' || r == '-' })
	if len(parts) == 0 {
		return ""
	}
	for i, p := range parts {
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return ""
			}
		}
		parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
	}
	return strings.Join(parts, "-")
}

func (c *conv) generalName(out *strings.Builder, s *Section, key string, known map[string]string, def string) {
	v, ok := c.get(s, key)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		fmt.Fprintf(out, "%s = \"default\"  # not set in the who.ini: repoze.who's middleware refused to start without it\n", key)
		c.problem(s, key, "not set: repoze.who's middleware refused to start without it; gowho's default is used", true)
		return
	}
	if g, ok := known[v]; ok {
		fmt.Fprintf(out, "%s = %s  # %s\n", key, tomlString(g), commentText(v))
		return
	}
	if r, gone := replaced[v]; gone {
		fmt.Fprintf(out, "%s = \"default\"  # %s: %s\n", key, commentText(v), commentText(r.short))
		c.problem(s, key, v+": "+r.short+"; gowho's \"default\" is used (the oidc plugin answers its own login paths: it needs no decider)", true)
		return
	}
	if key == "request_classifier" {
		c.pyClassifier = v
	}
	what := map[string]string{"request_classifier": "request classifier", "challenge_decider": "challenge decider"}[key]
	if ps := c.ini.Section("plugin:" + v); ps != nil {
		use, _ := ps.Raw("use")
		fmt.Fprintf(out, "# %s = %s  # not converted: [plugin:%s] is a Python %s; gowho uses \"default\" (%s)\n", key, commentText(tomlString(v)), commentText(v), what, def)
		c.problem(s, key, fmt.Sprintf("%q names [plugin:%s] (use = %s), a Python %s that repoze.who built from that section; gowho has no such plugin: its \"default\" is used instead", v, v, strings.TrimSpace(use), what), false)
		return
	}
	fmt.Fprintf(out, "# %s = %s  # not converted: Python-only; gowho uses \"default\" (%s)\n", key, commentText(tomlString(v)), def)
	c.problem(s, key, v+" is a Python-only "+what+"; gowho's \"default\" is used instead", false)
}

// Stage lists.

func (c *conv) writeStage(out *strings.Builder, st string) {
	s := c.ini.Section(st)
	if s == nil {
		return
	}
	fmt.Fprintf(out, "\n[%s]  # [%s]\n", st, st)
	v, ok := c.get(s, "plugins")
	if !ok {
		if _, has := s.Raw("plugins"); !has {
			c.problem(s, "", "no plugins key: repoze.who raised KeyError at load; an empty list is written", false)
		}
		out.WriteString("plugins = []\n")
		return
	}
	tokens := strings.Fields(v)
	if len(tokens) == 0 {
		out.WriteString("plugins = []\n")
		return
	}
	out.WriteString("plugins = [\n")
	seen := map[string]bool{}
	for _, tok := range tokens {
		entry, why, warn := c.entry(st, tok)
		if why == "" && seen[entryName(entry)] {
			why = "listed twice in this stage (gowho refuses that; repoze.who ran it twice)"
		}
		if why != "" {
			fmt.Fprintf(out, "  # %s,  # not converted: %s\n", commentText(tomlString(tok)), commentText(why))
			c.problem(s, "plugins", fmt.Sprintf("entry %q: %s", tok, why), false)
			continue
		}
		seen[entryName(entry)] = true
		if c.listed == nil {
			c.listed = map[string]int{}
		}
		c.listed[st]++
		if warn != "" {
			fmt.Fprintf(out, "  %s,  # %s\n", tomlString(entry), commentText(warn))
			continue
		}
		fmt.Fprintf(out, "  %s,\n", tomlString(entry))
	}
	out.WriteString("]\n")
}

func entryName(e string) string {
	n, _, _ := strings.Cut(e, ";")
	return n
}

// entry converts one stage-list token. why is set when it is dropped.
func (c *conv) entry(stage, tok string) (entry, why, warn string) {
	name, class, hasClass := strings.Cut(tok, ";")
	if n, ok := c.inline[name]; ok {
		name = n
	}
	if strings.Contains(class, ";") {
		return "", "two \";\": repoze.who raised ValueError at load", ""
	}
	if hasClass && class == "" {
		return "", "\";\" with nothing after it", ""
	}
	p, declared := c.byName[name]
	if !declared {
		for _, q := range c.plugins {
			if q.name == name {
				if q.gone != "" {
					return "", "[plugin:" + name + "] was not converted: " + q.gone, ""
				}
				return "", "[plugin:" + name + "] was not converted", ""
			}
		}
		if strings.Contains(name, ":") && !strings.Contains(name, ".") {
			return "", "not a declared plugin: 1.x \"name:classifier\" syntax? repoze.who 2.x reads it as a dotted name, which fails; write name;classifier", ""
		}
		return "", "not a declared plugin: a Python-only dotted name", ""
	}
	if !contains(p.stages, stage) {
		return "", "gowho's " + p.target + " cannot be listed under [" + stage + "] (repoze.who failed at the first request, with a 500 on every request)", ""
	}
	if !hasClass {
		if cl := p.classes[stage]; cl != "" {
			return name + ";" + cl, "", "listed without a classifier: the Python class declared classifications = {IIdentifier: ['" + cl + "'], IChallenger: ['" + cl + "']}, which repoze.who applied"
		}
		return name, "", ""
	}
	if class == "unused" {
		return name + ";unused", "", ""
	}
	var classes []string
	for _, cl := range strings.Split(class, ",") {
		if cl == "" {
			return "", "an empty classification in " + strings.TrimSpace(class), ""
		}
		if cl == "unused" {
			return "", "\"unused\" combined with other classifications", ""
		}
		if contains(classes, cl) {
			continue
		}
		classes = append(classes, cl)
	}
	if !slices.ContainsFunc(classes, func(cl string) bool { return contains(defaultClasses, cl) }) {
		if c.pyClassifier != "" {
			return "", "classification \"" + class + "\" came from request_classifier = " + c.pyClassifier + ", which is not converted: gowho's \"default\" classifier never returns it, so the entry would never run; " +
				"write a Go classifier returning it (who.Classifier), name it in [general], then list the entry again", ""
		}
		return "", "classification \"" + class + "\" is never returned by the default request classifier (browser, dav or xmlpost): the entry never ran in repoze.who either; use \"unused\" if it is only there to be named by another plugin", ""
	}
	if len(classes) > 1 {
		warn = "repoze.who matched \"" + class + "\" as a substring; gowho matches each word exactly"
	}
	return name + ";" + strings.Join(classes, ","), "", warn
}
