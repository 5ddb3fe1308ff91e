package main

import _ "github.com/openclair/clair/internal/plugins" // every scanner, feed and version scheme
