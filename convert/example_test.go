package convert_test

import (
	"fmt"

	"github.com/gowho/gowho/convert"
)

func ExampleConvert() {
	ini, err := convert.ParseINI([]byte(`
[plugin:basicauth]
use = repoze.who.plugins.basicauth:make_plugin
realm = demo

[plugin:htpasswd]
use = repoze.who.plugins.htpasswd:make_plugin
filename = %(here)s/passwd
check_fn = my.module:check

[general]
request_classifier = repoze.who.classifiers:default_request_classifier
challenge_decider = repoze.who.classifiers:default_challenge_decider

[identifiers]
plugins = basicauth
[authenticators]
plugins = htpasswd
[challengers]
plugins = basicauth;browser
`), "/etc/app")
	if err != nil {
		fmt.Println(err)
		return
	}
	toml, problems := convert.Convert(ini, convert.Options{Source: "who.ini", Here: "/etc/app", OutDir: "/etc/app"})
	fmt.Print(string(toml))
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// # who.toml converted by `who convert` from who.ini (a repoze.who who.ini).
	// # Lines starting with "# not converted" or carrying a "note:" need a review.
	//
	// [general]  # [general]
	// request_classifier = "default"  # repoze.who.classifiers:default_request_classifier
	// challenge_decider = "default"  # repoze.who.classifiers:default_challenge_decider
	//
	// [plugin.basicauth]  # [plugin:basicauth]
	// use = "basicauth"  # repoze.who.plugins.basicauth:make_plugin
	// realm = "demo"
	//
	// [plugin.htpasswd]  # [plugin:htpasswd]
	// use = "htpasswd"  # repoze.who.plugins.htpasswd:make_plugin
	// filename = "passwd"  # relative to this file
	// # check_fn = "my.module:check"  # not converted: an unknown Python check function; gowho detects each line's scheme (check_fn = "auto", or "plain" for clear text)
	//
	// [identifiers]  # [identifiers]
	// plugins = [
	//   "basicauth",
	// ]
	//
	// [authenticators]  # [authenticators]
	// plugins = [
	//   "htpasswd",
	// ]
	//
	// [challengers]  # [challengers]
	// plugins = [
	//   "basicauth;browser",
	// ]
	// who.ini:9: [plugin:htpasswd] check_fn: not converted: an unknown Python check function; gowho detects each line's scheme (check_fn = "auto", or "plain" for clear text)
}
