// Command clair is the clair server with the Wolfi feed and the Conda
// scanner added: three imports and one call.
package main

import (
	_ "github.com/openclair/clair/plugins" // everything the official binaries ship
	"github.com/openclair/clair/server"

	_ "example.com/clair-wolfi/conda" // registers the "conda" scanner
	_ "example.com/clair-wolfi/wolfi" // registers the "wolfi" feed and namespace
)

func main() { server.Main() }
