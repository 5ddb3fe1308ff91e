package cli

import _ "github.com/openclair/clair/plugins" // the tests use the shipped set, as cmd/clairctl does
