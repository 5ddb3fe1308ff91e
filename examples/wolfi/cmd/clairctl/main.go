// Command clairctl is clairctl with the Wolfi feed and the Conda scanner
// added: three imports and one call.
package main

import (
	"github.com/openclair/clair/cli"
	_ "github.com/openclair/clair/plugins" // everything the official binaries ship

	_ "example.com/clair-wolfi/conda" // registers the "conda" scanner
	_ "example.com/clair-wolfi/wolfi" // registers the "wolfi" feed and namespace
)

func main() { cli.Main() }
