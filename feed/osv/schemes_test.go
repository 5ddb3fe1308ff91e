package osv

// The version schemes FixedIn compares with. The feed does not import them
// itself: a binary registers the schemes it ships (package plugins), and
// the schemes' own tests import this package to read real OSV data.
import (
	_ "github.com/openclair/clair/version/cargo"
	_ "github.com/openclair/clair/version/composer"
	_ "github.com/openclair/clair/version/maven"
	_ "github.com/openclair/clair/version/npm"
	_ "github.com/openclair/clair/version/nuget"
	_ "github.com/openclair/clair/version/pep440"
	_ "github.com/openclair/clair/version/rpm"
	_ "github.com/openclair/clair/version/rubygems"
	_ "github.com/openclair/clair/version/semver"
)
