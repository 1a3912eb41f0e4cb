package config

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gowho/gowho/who"
)

// wordyClassifier is a classifier plugin that declares its words
// (who.ClassifierWords).
type wordyClassifier struct{ words []string }

func (wordyClassifier) Classify(*http.Request) string   { return "api" }
func (w wordyClassifier) ClassificationWords() []string { return w.words }

var _ who.ClassifierWords = wordyClassifier{}

// TestClassificationWords: a stage entry naming a classification the
// configured classifier never returns is a mistake at the entry's line,
// with a did-you-mean from the classifier's words (issue 12 item 10:
// "basicauth;brwoser" was accepted and never ran). The default classifier
// has its three words; a plugin declares its own; a classifier that
// declares none accepts any word.
func TestClassificationWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		general string
		entries string // the identifiers' plugins
		// sections go before [identifiers]
		sections string
		want     []string
	}{
		{name: "default classifier, typo", entries: `["ident;brwoser"]`, want: []string{
			`who.toml:8: [identifiers]: plugin "ident": classification "brwoser" is never returned by the request classifier "default", so the entry would never run (did you mean "browser"? it returns: browser, dav, xmlpost)`,
		}},
		{name: "default by name, unknown word", general: `request_classifier = "default"`, entries: `["ident;browser,api"]`, want: []string{
			`who.toml:8: [identifiers]: plugin "ident": classification "api" is never returned by the request classifier "default", so the entry would never run (it returns: browser, dav, xmlpost)`,
		}},
		{name: "default classifier, its words", entries: `["ident;browser,dav", "idchall;xmlpost", "all;unused"]`},
		{name: "plugin declaring words, typo", general: `request_classifier = "words"`, entries: `["ident;mobil"]`, want: []string{
			`who.toml:8: [identifiers]: plugin "ident": classification "mobil" is never returned by the request classifier "words", so the entry would never run (did you mean "mobile"? it returns: api, mobile)`,
		}},
		{name: "plugin declaring words, its words", general: `request_classifier = "words"`, entries: `["ident;api", "idchall;mobile"]`},
		{name: "plugin declaring words, browser is not one", general: `request_classifier = "words"`, entries: `["ident;browser"]`, want: []string{
			`who.toml:8: [identifiers]: plugin "ident": classification "browser" is never returned by the request classifier "words", so the entry would never run (it returns: api, mobile)`,
		}},
		{name: "plugin declaring no words", general: `request_classifier = "silent"`, entries: `["ident;brwoser", "idchall;anything"]`},
		{name: "registered classifier", general: `request_classifier = "always-dav"`, entries: `["ident;brwoser"]`},
		// The plugin's own mistake hid the entry's typo (two rounds of
		// who check).
		{name: "a plugin that failed to build, typo", sections: "[plugin.broken]\nuse = \"fails\"\n", entries: `["broken;brwoser", "nosuch;xmlpots"]`, want: []string{
			`who.toml:7: [plugin.broken] (use = "fails"): it fails`,
			`who.toml:10: [identifiers]: unknown plugin "nosuch": no [plugin.nosuch] section and no plugin is registered under that name in this program (a plugin's package registers it when the program imports it: plugins/all brings in the built-in ones)`,
			`who.toml:10: [identifiers]: plugin "broken": classification "brwoser" is never returned by the request classifier "default", so the entry would never run (did you mean "browser"? it returns: browser, dav, xmlpost)`,
			`who.toml:10: [identifiers]: plugin "nosuch": classification "xmlpots" is never returned by the request classifier "default", so the entry would never run (did you mean "xmlpost"? it returns: browser, dav, xmlpost)`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := testRegistry(&recorder{})
			reg.Register("fails", func(spec who.PluginSpec) (any, error) { return nil, errors.New("it fails") })
			reg.Register("wordy", func(spec who.PluginSpec) (any, error) {
				return wordyClassifier{words: []string{"api", "mobile"}}, spec.Decode(&struct{}{})
			})
			src := "[general]\n" + tc.general + "\n" +
				"[plugin.words]\nuse = \"wordy\"\n" +
				"[plugin.silent]\nuse = \"classifier\"\n" + tc.sections +
				"[identifiers]\nplugins = " + tc.entries + "\n"
			c, err := Parse("who.toml", []byte(src), Options{Registry: reg, Logger: quiet})
			if c != nil {
				defer c.Close()
			}
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if len(tc.want) > 0 && c != nil {
				t.Error("a chain was built despite the mistake")
			}
			if len(tc.want) == 0 && c != nil && !slices.ContainsFunc(c.Stages()[0].Entries, func(e StageEntry) bool { return e.Name == "ident" }) {
				t.Error("entry ident is missing from the chain")
			}
		})
	}
}
