package whocmd

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/gowho/gowho/config"
	"github.com/gowho/gowho/gateway"
)

// runGateway serves the chain of a who.toml without an application, as
// its [gateway] table says (package gateway), until SIGINT or SIGTERM,
// reloading the file on SIGHUP, as `who serve` does.
func runGateway(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, serverSignals...)
	defer signal.Stop(signals)
	return gatewayMain(args, signals, stdout, stderr)
}

// newGatewayFlags returns gateway's flag set: serve's, with its own usage.
func newGatewayFlags(stderr io.Writer) (*flag.FlagSet, *serveFlags) {
	fs := flag.NewFlagSet("who gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf serveFlags
	fs.StringVar(&sf.config, "config", "", "the who.toml to load (or give it as the argument)")
	fs.BoolVar(&sf.debug, "debug", false, "log every plugin's answer")
	sf.server.register(fs)
	setUsage(fs, stderr, []string{"who gateway [flags] FILE", "who gateway -config FILE [flags]"},
		"flags: "+serveSynopsis(fs),
		"Serves the chain of the who.toml FILE without an application, as its [gateway] table says:",
		"the forward-auth endpoint (auth_path) for nginx, Caddy, Traefik or Envoy, the login pages",
		"below prefix, and with upstream = URL a reverse proxy for every other path (docs/gateway.md).",
		"Signals are handled as by `who serve`: SIGINT or SIGTERM stop it gracefully, SIGHUP reloads FILE.")
	return fs, &sf
}

// gatewayMain is runGateway with the signals coming from signals.
func gatewayMain(args []string, signals <-chan os.Signal, stdout, stderr io.Writer) int {
	fs, sf := newGatewayFlags(stderr)
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	file, _, err := configArg(sf.config, pos, 0)
	if err != nil {
		fmt.Fprintln(stderr, errorLine("who gateway", err))
		fs.Usage()
		return 2
	}
	level := slog.LevelInfo
	if sf.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(newMaskingHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
	obs, err := startObservability(sf.server, logger, stdout) // -metrics, -audit
	if err != nil {
		fmt.Fprintf(stderr, "who gateway: %v\n", err)
		return 1
	}
	defer func() { _ = obs.Close() }()
	rh, err := newReloadable(file, logger, gatewayApp(logger), sf.server.shutdownTimeout, obs.observers...)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", sf.server.addr)
	if err != nil {
		_ = rh.Close()
		fmt.Fprintf(stderr, "who gateway: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	return serveReloading(ln, rh, sf.server, signals, logger, stderr)
}

// gatewayApp is `who gateway`'s handler for a chain: the gateway of its
// [gateway] table (an empty one when the file has none: forward-auth at
// the default auth_path).
func gatewayApp(logger *slog.Logger) func(*config.Chain) (http.Handler, error) {
	return func(chain *config.Chain) (http.Handler, error) {
		return gateway.FromChain(chain, logger)
	}
}
