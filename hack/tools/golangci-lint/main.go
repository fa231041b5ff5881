// Command golangci-lint is golangci-lint v2 with the logcheck plugin built in:
// what `golangci-lint custom` makes from .custom-gcl.yml, without cloning from
// GitHub, which this project's machines cannot reach. `make golangci-lint`
// builds it into bin/ from the Go module proxy.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/golangci/golangci-lint/v2/pkg/commands"
	"github.com/golangci/golangci-lint/v2/pkg/exitcodes"

	// logcheck checks Kubernetes logging calls: structured key/value pairs,
	// capitalised messages, no format verbs in structured calls.
	_ "sigs.k8s.io/logtools/logcheck/gclplugin"
)

func main() {
	info := commands.BuildInfo{Version: "custom", Commit: "?", Date: "(unknown)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/golangci/golangci-lint/v2" {
				info.Version = dep.Version + "+logcheck"
			}
		}
	}
	if err := commands.Execute(info); err != nil {
		_, _ = fmt.Fprintf(os.Stderr, "The command is terminated due to an error: %v\n", err)
		os.Exit(exitcodes.Failure)
	}
}
