package whocmd

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// modulePath is gowho's module, whose version `who version` prints.
const modulePath = "github.com/gowho/gowho"

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// runVersion prints gowho's module version, the Go version and the
// platform: "github.com/gowho/gowho v1.2.0 (go1.26.0 linux/amd64)". The
// version is the main module's in cmd/who, the dependency's (or its
// replacement's) in a team's own binary, and "(devel)" when the binary
// was built from a checkout or without build information.
func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("who version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, stderr, []string{"who version"}, "Prints gowho's module version and the Go version the binary was built with.")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "who version: takes no arguments, got %q\n", pos)
		return 2
	}
	fmt.Fprintln(stdout, versionLine())
	return 0
}

// versionLine is what `who version` prints.
func versionLine() string {
	version, goVersion := "(devel)", runtime.Version()
	if bi, ok := readBuildInfo(); ok {
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		m := &bi.Main
		if m.Path != modulePath {
			m = nil
			for _, d := range bi.Deps {
				if d.Path == modulePath {
					m = d
				}
			}
		}
		if m != nil && m.Replace != nil {
			m = m.Replace
		}
		if m != nil && m.Version != "" {
			version = m.Version
		}
	}
	return fmt.Sprintf("%s %s (%s %s/%s)", modulePath, version, goVersion, runtime.GOOS, runtime.GOARCH)
}
