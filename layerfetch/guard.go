package layerfetch

import (
	"net/netip"
	"syscall"
)

// DefaultPrivateHint is what a refusal tells the operator to do when the
// layers really are on a private network (an in-cluster registry).
const DefaultPrivateHint = "set indexer.allow_private_networks to allow"

// BlockedError is a connection the network policy refused: the manifest
// (or a redirect) pointed at an address that is not on the public
// internet. The indexer must not become a way for its clients to reach
// the server's own network (the cloud metadata service at 169.254.169.254,
// an admin port on localhost, a database on 10.x).
type BlockedError struct {
	// Host is the host:port as the URL named it ("localhost:8080");
	// empty when that is Addr itself.
	Host string
	// Addr is the address actually dialled, after name resolution.
	Addr netip.AddrPort
	// Reason says which range Addr is in ("loopback address").
	Reason string
	// Hint says how to allow it; empty for none.
	Hint string
}

func (e *BlockedError) Error() string {
	s := "refusing to connect to " + e.Addr.String()
	if e.Host != "" && e.Host != e.Addr.String() {
		s = "refusing to connect to " + e.Host + " (" + e.Addr.String() + ")"
	}
	s += ": " + e.Reason
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ranges are the networks a Fetcher refuses unless AllowPrivate is set,
// with the reason its error gives. Besides the ranges the brief calls
// private, it refuses whatever is not routable on the internet anyway
// (documentation, benchmarking, reserved), since a connection there can
// only reach something local.
var ranges = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" address (0.0.0.0/8)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT, RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address (includes the cloud metadata service)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address (TEST-NET-1)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address (TEST-NET-2)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address (TEST-NET-3)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address (240.0.0.0/4, includes broadcast)"},
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	// IPv4-compatible addresses (deprecated) have no public use.
	{netip.MustParsePrefix("::/96"), "IPv4-compatible IPv6 address (deprecated)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only address (RFC 6666)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address (RFC 3849)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
}

// Embedded IPv4 addresses: a NAT64 gateway or a 6to4 relay would forward a
// connection to the IPv4 address inside, so that address is checked too.
var (
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	sixTo = netip.MustParsePrefix("2002::/16")
)

// Classify says whether a Fetcher without AllowPrivate refuses ip, and
// why. IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged as the
// IPv4 address they are, since that is where the kernel connects them.
// It is exported for other outbound connections the server makes on a
// client's behalf (webhooks).
func Classify(ip netip.Addr) (reason string, blocked bool) {
	if !ip.IsValid() {
		return "invalid address", true
	}
	ip = ip.Unmap().WithZone("")
	for _, r := range ranges {
		if r.p.Contains(ip) {
			return r.reason, true
		}
	}
	if ip.Is6() {
		b := ip.As16()
		var inner netip.Addr
		switch {
		case nat64.Contains(ip):
			inner = netip.AddrFrom4([4]byte(b[12:16]))
		case sixTo.Contains(ip):
			inner = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if inner.IsValid() {
			if reason, blocked := Classify(inner); blocked {
				return reason + ", embedded in " + ip.String(), true
			}
		}
	}
	return "", false
}

// control is the dialer's Control hook: it runs after name resolution,
// on the very address the socket is about to connect to, for every
// connection (each redirect hop, each address a name resolves to). A check
// on the URL's host before the request would not do: the name could
// resolve to a public address when checked and to 127.0.0.1 when dialled
// (DNS rebinding), and a redirect could point anywhere.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	if f.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Not an IP address (a unix socket?): nothing a Fetcher dials.
		return &BlockedError{Reason: "not an IP address: " + address, Hint: f.hint()}
	}
	if f.testAllow != nil && f.testAllow(ap) {
		return nil
	}
	if reason, blocked := Classify(ap.Addr()); blocked {
		return &BlockedError{Addr: ap, Reason: reason, Hint: f.hint()}
	}
	return nil
}

func (f *Fetcher) hint() string {
	if f.PrivateHint != "" {
		return f.PrivateHint
	}
	return DefaultPrivateHint
}

// public is the refusal as a client may read it: the host as the client
// wrote it and no more. The address a name resolved to, and which range it
// is in, are the server's network, not the client's business (they would
// make the API a DNS oracle for internal names).
func (e *BlockedError) public() string {
	host := e.Host
	if host == "" {
		host = e.Addr.String()
	}
	return "refusing to connect to " + host + ": not a public address"
}
