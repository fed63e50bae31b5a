// Command cardportal is the issuer's online-services server: web pages, the mobile-app
// JSON API and the operations endpoints, over SQLite (default) or PostgreSQL.
//
//	cardportal [serve] [flags]   run the server (the default)
//	cardportal bench [flags]     measure hashing, logins and authenticated requests
//	cardportal load [flags]      measure authorisations/s through the card network's interface
//	cardportal payments run [-date YYYY-MM-DD] [flags]   execute the payments due on a date
//	cardportal statements close -date YYYY-MM-DD [flags] close the billing cycles ending on a date
//	cardportal disputes resolve -id N -action ACTION [flags]   review or resolve a dispute
//	cardportal simulate [flags]  play the card network for a running demo server
//
// Every flag also reads a CARDPORTAL_* variable; run with -h for the list.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cardportal:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its surroundings passed in so tests can start it
// in-process, on port 0, as many times as they like.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return bench(ctx, rest, getenv, stdout, stderr)
	case "load":
		return loadCmd(ctx, rest, getenv, stdout, stderr) // load.go: the network interface under load
	case "payments":
		return paymentsCmd(ctx, rest, getenv, stdout, stderr) // payments.go
	case "statements":
		return statementsCmd(ctx, rest, getenv, stdout, stderr) // statements.go
	case "disputes":
		return disputesCmd(ctx, rest, getenv, stdout, stderr) // disputes.go
	case "simulate":
		return simulateCmd(ctx, rest, getenv, stdout, stderr) // simulate.go
	default:
		return fmt.Errorf("unknown command %q (want serve, bench, load, simulate, payments, statements or disputes)", cmd)
	}
}
