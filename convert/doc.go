// Package convert turns a repoze.who who.ini into an equivalent gowho
// who.toml, reading the ini the way Python's configparser does.
//
// ParseINI reads the file; Convert writes the who.toml, mapping each
// repoze.who and seed-plugin entry point to its gowho plugin with the
// original factory's defaults written out, and returns what it could not
// carry over as Problems (see Failed). `who convert` is the command line;
// docs/migration.md shows the documented configurations converted.
//
//	ini, err := convert.ParseINI(data, "/etc/app")
//	if err != nil { ... }
//	toml, problems := convert.Convert(ini, convert.Options{Source: "who.ini", Here: "/etc/app", OutDir: "/etc/app"})
package convert
