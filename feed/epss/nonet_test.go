package epss_test

import (
	"testing"

	"github.com/openclair/clair/internal/nonet"
)

// TestMain keeps the tests off the network: only their own loopback servers answer.
func TestMain(m *testing.M) { nonet.Main(m) }
