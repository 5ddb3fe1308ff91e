package main

// The scanners, feeds and version schemes this binary ships. Adding an
// ecosystem is adding its package here.
import (
	_ "github.com/openclair/clair/feed/alpine"
	_ "github.com/openclair/clair/feed/debian"
	_ "github.com/openclair/clair/feed/ubuntu"
	_ "github.com/openclair/clair/scanner/apk"
	_ "github.com/openclair/clair/scanner/distro"
	_ "github.com/openclair/clair/scanner/dpkg"
	_ "github.com/openclair/clair/version/apk"
	_ "github.com/openclair/clair/version/deb"
)
