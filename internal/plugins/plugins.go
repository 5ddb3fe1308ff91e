// Package plugins imports the scanners, feeds and version schemes the
// binaries ship, so that clair and clairctl always ship the same set.
package plugins

// Adding an ecosystem is adding its package here.
import (
	_ "github.com/openclair/clair/feed/alpine"
	_ "github.com/openclair/clair/feed/amazon"
	_ "github.com/openclair/clair/feed/debian"
	_ "github.com/openclair/clair/feed/osv"
	_ "github.com/openclair/clair/feed/oval"
	_ "github.com/openclair/clair/feed/redhat"
	_ "github.com/openclair/clair/feed/ubuntu"
	_ "github.com/openclair/clair/scanner/apk"
	_ "github.com/openclair/clair/scanner/distro"
	_ "github.com/openclair/clair/scanner/dotnet"
	_ "github.com/openclair/clair/scanner/dpkg"
	_ "github.com/openclair/clair/scanner/gobin"
	_ "github.com/openclair/clair/scanner/java"
	_ "github.com/openclair/clair/scanner/lockfile"
	_ "github.com/openclair/clair/scanner/npm"
	_ "github.com/openclair/clair/scanner/php"
	_ "github.com/openclair/clair/scanner/python"
	_ "github.com/openclair/clair/scanner/rhel"
	_ "github.com/openclair/clair/scanner/rpm"
	_ "github.com/openclair/clair/scanner/ruby"
	_ "github.com/openclair/clair/scanner/rust"
	_ "github.com/openclair/clair/version/apk"
	_ "github.com/openclair/clair/version/cargo"
	_ "github.com/openclair/clair/version/composer"
	_ "github.com/openclair/clair/version/deb"
	_ "github.com/openclair/clair/version/maven"
	_ "github.com/openclair/clair/version/npm"
	_ "github.com/openclair/clair/version/nuget"
	_ "github.com/openclair/clair/version/pep440"
	_ "github.com/openclair/clair/version/rpm"
	_ "github.com/openclair/clair/version/rubygems"
	_ "github.com/openclair/clair/version/semver"
)
