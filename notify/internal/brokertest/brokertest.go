// Package brokertest finds the real RabbitMQ the deliverers' tests run
// against, and puts a TCP proxy in front of it to break connections the way
// a broker restart does. There is no mock broker here: the proxy forwards
// bytes to the real one.
package brokertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/vuln"
)

// Environment variables naming the brokers; the defaults are the machine's
// RabbitMQ (AMQP on 5672, its STOMP plugin on 61613).
const (
	EnvAMQP  = "CLAIR_TEST_AMQP"  // an amqp:// URL
	EnvSTOMP = "CLAIR_TEST_STOMP" // host:port
)

// AMQP is the test broker's AMQP URL and host:port; the test is skipped
// when nothing answers there, unless CI is set, where that fails it.
func AMQP(t testing.TB) (uri, addr string) {
	uri, addr = "amqp://guest:guest@127.0.0.1:5672/", "127.0.0.1:5672"
	if v := os.Getenv(EnvAMQP); v != "" {
		uri = v
		addr = hostPort(v)
	}
	require(t, addr, "RabbitMQ (AMQP)", EnvAMQP)
	return uri, addr
}

// STOMP is the test broker's STOMP host:port, skipped or failed as AMQP.
func STOMP(t testing.TB) string {
	addr := "127.0.0.1:61613"
	if v := os.Getenv(EnvSTOMP); v != "" {
		addr = v
	}
	require(t, addr, "RabbitMQ's STOMP plugin (rabbitmq-plugins enable rabbitmq_stomp)", EnvSTOMP)
	return addr
}

func hostPort(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5672")
	}
	return u.Host
}

func require(t testing.TB, addr, what, env string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		return
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s at %s: %v (CI is set: the broker must run; .ci/run starts it)", what, addr, err)
	}
	t.Skipf("%s not reachable at %s (%v); set %s or start it", what, addr, err, env)
}

// Proxy forwards TCP connections to a broker.
type Proxy struct {
	Addr   string // where to connect instead of the broker
	target string
	ln     net.Listener

	mu    sync.Mutex
	conns []net.Conn
	held  bool
	cond  *sync.Cond
	// trigger, when set, holds the broker's answers from the moment a
	// client write contains it.
	trigger []byte
}

// NewProxy listens on loopback and forwards each connection to target until
// the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return newProxy(t, ln, target)
}

func newProxy(t testing.TB, ln net.Listener, target string) *Proxy {
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln}
	p.cond = sync.NewCond(&p.mu)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Hold(false)
		p.Kill()
	})
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		go p.pipe(b, c, false) // client to broker
		go p.pipe(c, b, true)
	}
}

// pipe copies src to dst; fromBroker copies wait while the proxy is held.
func (p *Proxy) pipe(dst, src net.Conn, fromBroker bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if !fromBroker && n > 0 {
			p.mu.Lock()
			if p.trigger != nil && bytes.Contains(buf[:n], p.trigger) {
				p.held, p.trigger = true, nil
			}
			p.mu.Unlock()
		}
		if fromBroker {
			p.mu.Lock()
			for p.held {
				p.cond.Wait()
			}
			p.mu.Unlock()
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				src.Close()
			}
			dst.Close()
			return
		}
	}
}

// Kill closes every connection through the proxy, as a broker that
// restarts does; new connections are still forwarded.
func (p *Proxy) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// HoldWhenSent holds the broker's answers (see Hold) from the moment the
// client sends b: the broker has the message, its confirm or receipt waits.
func (p *Proxy) HoldWhenSent(b []byte) {
	p.mu.Lock()
	p.trigger = append([]byte(nil), b...)
	p.mu.Unlock()
}

// Hold stops (true) or resumes (false) forwarding what the broker sends:
// the broker gets the client's frames but its answers (confirms, receipts)
// wait.
func (p *Proxy) Hold(on bool) {
	p.mu.Lock()
	p.held = on
	p.mu.Unlock()
	p.cond.Broadcast()
}

// CutMidDelivery runs deliver with p holding the broker's answers from the
// moment marker is sent, waits until queued (the messages in the broker's
// queue) says the broker has the message, then drops every connection and
// returns deliver's error: the connection broke between the broker taking
// the message and its confirm or receipt arriving.
func CutMidDelivery(t testing.TB, p *Proxy, marker string, deliver func() error, queued func() (int, error)) error {
	t.Helper()
	p.HoldWhenSent([]byte(marker))
	errc := make(chan error, 1)
	go func() { errc <- deliver() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := queued()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broker never got the message")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Kill()
	p.Hold(false)
	select {
	case err := <-errc:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("Deliver did not return after the connection broke")
		return nil
	}
}

// Notifications is a set of n notifications for the tests' direct
// deliveries: a real advisory (Debian's DSA-5514-1, glibc's CVE-2023-4911
// "Looney Tunables", fixed in 2.36-9+deb12u3 in bookworm) affecting n
// manifests, the first added and the rest alternating.
func Notifications(n int) []notify.Notification {
	out := make([]notify.Notification, n)
	for i := range out {
		r := notify.Added
		if i%2 == 1 {
			r = notify.Removed
		}
		out[i] = notify.Notification{
			ID:       fmt.Sprintf("%d", i+1),
			Manifest: fmt.Sprintf("sha256:%064x", i+1),
			Reason:   r,
			Vulnerability: notify.VulnerabilitySummary{
				Name:               "CVE-2023-4911",
				FixedInVersion:     "2.36-9+deb12u3",
				Links:              "https://security-tracker.debian.org/tracker/CVE-2023-4911",
				Description:        "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the GLIBC_TUNABLES environment variable.",
				NormalizedSeverity: "High",
				Package:            &vuln.Package{Name: "glibc", Kind: "source"},
				Distribution:       &vuln.Distribution{DID: "debian", Name: "Debian GNU/Linux", VersionID: "12", VersionCodeName: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
			},
		}
	}
	return out
}

// FirstNotificationJSON is Notifications(1)[0] on the wire: Clair's
// notification shape, field for field.
const FirstNotificationJSON = `{"id":"1","manifest":"sha256:0000000000000000000000000000000000000000000000000000000000000001","reason":"added","vulnerability":{"name":"CVE-2023-4911","fixed_in_version":"2.36-9+deb12u3","links":"https://security-tracker.debian.org/tracker/CVE-2023-4911","description":"A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the GLIBC_TUNABLES environment variable.","normalized_severity":"High","package":{"id":"","name":"glibc","version":"","kind":"source"},"distribution":{"id":"","did":"debian","name":"Debian GNU/Linux","version":"","version_code_name":"bookworm","version_id":"12","arch":"","cpe":"","pretty_name":"Debian GNU/Linux 12 (bookworm)"},"repository":null}}`
