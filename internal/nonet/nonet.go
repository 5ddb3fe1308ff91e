// Package nonet keeps tests off the network (the design sketch's convention
// 10): Install makes the default HTTP transports refuse to dial anything
// but loopback, so that a unit test that forgot to point a client at its own
// httptest server fails at once, naming the host, instead of reaching out
// (or hanging on a machine without network). Packages whose code makes
// requests call it from TestMain.
package nonet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Dial is a DialContext that only reaches loopback addresses.
func Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("nonet: a test tried to reach %s, which it did not set up (only loopback servers are allowed)", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Install replaces the dialers of http.DefaultTransport and of
// go-containerregistry's remote.DefaultTransport with Dial.
func Install() {
	for _, rt := range []http.RoundTripper{http.DefaultTransport, remote.DefaultTransport} {
		if tr, ok := rt.(*http.Transport); ok {
			tr.DialContext = Dial
			tr.Proxy = nil // a proxy from the environment would be a way out
		}
	}
}

// Main is a TestMain: Install, then run the tests.
func Main(m *testing.M) { Install(); os.Exit(m.Run()) }
