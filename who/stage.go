package who

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Stage names, as in who.toml, in chain order.
const (
	StageIdentifiers    = "identifiers"
	StageAuthenticators = "authenticators"
	StageChallengers    = "challengers"
	StageMDProviders    = "mdproviders"
)

// Stages lists the stage names in chain order.
func Stages() []string {
	return []string{StageIdentifiers, StageAuthenticators, StageChallengers, StageMDProviders}
}

// ErrWrongStage is what a *StageError unwraps to: a plugin is listed under
// a stage whose interface it does not implement.
var ErrWrongStage = errors.New("plugin does not implement the stage")

// A StageError is New's error for one entry listed under a stage whose
// interface its plugin does not implement. Index is the entry's position in
// that stage's list, so a loader can point at the line that listed it.
type StageError struct {
	Stage string // StageIdentifiers, StageAuthenticators, StageChallengers or StageMDProviders
	Index int    // the entry's index in the stage's list
	Name  string // the entry's Name
	Is    string // the stage interfaces the plugin implements, as Implements says
}

// Error says which entry is listed where, and what its plugin is.
func (e *StageError) Error() string {
	return fmt.Sprintf("plugin %q is listed under [%s] but is not %s (it is: %s)", e.Name, e.Stage, StageNoun(e.Stage), e.Is)
}

// Unwrap returns ErrWrongStage.
func (e *StageError) Unwrap() error { return ErrWrongStage }

// StageNoun names the interface of stage with its article: "an
// Identifier", "an Authenticator", "a Challenger", "a MetadataProvider".
func StageNoun(stage string) string {
	switch stage {
	case StageIdentifiers:
		return "an Identifier"
	case StageAuthenticators:
		return "an Authenticator"
	case StageChallengers:
		return "a Challenger"
	default:
		return "a MetadataProvider"
	}
}

// Implements lists the interfaces of this package that plugin implements,
// comma-separated, for messages: Identifier, Authenticator, Challenger,
// MetadataProvider, Classifier, Decider, OuterMiddleware; "none of the
// stage interfaces" when it implements none.
func Implements(plugin any) string {
	var ks []string
	for _, k := range []struct {
		name string
		ok   bool
	}{
		{"Identifier", is[Identifier](plugin)},
		{"Authenticator", is[Authenticator](plugin)},
		{"Challenger", is[Challenger](plugin)},
		{"MetadataProvider", is[MetadataProvider](plugin)},
		{"Classifier", is[Classifier](plugin)},
		{"Decider", is[Decider](plugin)},
		{"OuterMiddleware", is[OuterMiddleware](plugin)},
	} {
		if k.ok {
			ks = append(ks, k.name)
		}
	}
	if len(ks) == 0 {
		return "none of the stage interfaces"
	}
	return strings.Join(ks, ", ")
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

// RunsFor reports whether the entry runs for a request of classification
// c: an entry with no classifications runs for every request, an
// ";unused" one for none, any other for the classifications it lists.
func (e Entry) RunsFor(c string) bool {
	if len(e.Classifications) == 0 {
		return true
	}
	return !slices.Contains(e.Classifications, Unused) && slices.Contains(e.Classifications, c)
}

// buildStage keeps the entries of one stage that run (not ";unused"),
// with their plugin as T, and reports every entry whose plugin is no T.
func buildStage[T any](stage string, entries []Entry) ([]stageEntry[T], error) {
	out := make([]stageEntry[T], 0, len(entries))
	var errs []error
	for i, e := range entries {
		p, ok := e.Plugin.(T)
		if !ok {
			errs = append(errs, &StageError{Stage: stage, Index: i, Name: e.Name, Is: Implements(e.Plugin)})
			continue
		}
		if slices.Contains(e.Classifications, Unused) {
			continue // declared only: referable, never run
		}
		out = append(out, stageEntry[T]{Entry: e, p: p})
	}
	return out, errors.Join(errs...)
}
