// Command clairctl scans container images for known vulnerabilities and keeps
// the vulnerability feeds up to date, on an embedded store by default.
package main

import (
	"github.com/openclair/clair/cli"
	_ "github.com/openclair/clair/plugins" // every scanner, feed and version scheme shipped
)

func main() { cli.Main() }
