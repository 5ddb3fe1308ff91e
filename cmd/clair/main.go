// Command clair is the server: Clair's indexer, matcher and classic APIs
// over one store, with the feeds updated in the background.
//
//	clair -config config.yaml [-mode combo|indexer|matcher|notifier]
package main

import (
	_ "github.com/openclair/clair/plugins" // every scanner, feed and version scheme shipped
	"github.com/openclair/clair/server"
)

func main() { server.Main() }
