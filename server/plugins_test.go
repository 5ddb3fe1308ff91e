package server

import _ "github.com/openclair/clair/plugins" // the tests use the shipped set, as cmd/clair does
