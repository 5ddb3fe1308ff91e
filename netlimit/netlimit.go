// Package netlimit bounds a listener's open connections, in all and per
// client address, so that slow clients holding connections open cannot
// use up the process's file descriptors and starve the others (a health
// probe among them).
package netlimit

import (
	"net"
	"sync"
)

// Listener wraps l: at most total connections are open at once (Accept
// waits for one to close; 0 means no bound), and at most perIP from one
// client address (further ones are closed at once; 0 means no bound).
func Listener(l net.Listener, total, perIP int) net.Listener {
	ll := &listener{Listener: l, perIP: perIP, byIP: map[string]int{}, done: make(chan struct{})}
	if total > 0 {
		ll.sem = make(chan struct{}, total)
	}
	return ll
}

type listener struct {
	net.Listener
	sem   chan struct{}
	perIP int

	mu        sync.Mutex
	byIP      map[string]int
	done      chan struct{}
	closeOnce sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		if l.sem != nil {
			select {
			case l.sem <- struct{}{}:
			case <-l.done:
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			l.release()
			return nil, err
		}
		ip := hostOf(c.RemoteAddr())
		if l.perIP > 0 {
			l.mu.Lock()
			if l.byIP[ip] >= l.perIP {
				l.mu.Unlock()
				c.Close()
				l.release()
				continue
			}
			l.byIP[ip]++
			l.mu.Unlock()
		}
		return &conn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *listener) release() {
	if l.sem != nil {
		<-l.sem
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

type conn struct {
	net.Conn
	l    *listener
	ip   string
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if c.l.perIP > 0 {
			c.l.mu.Lock()
			if c.l.byIP[c.ip]--; c.l.byIP[c.ip] <= 0 {
				delete(c.l.byIP, c.ip)
			}
			c.l.mu.Unlock()
		}
		c.l.release()
	})
	return err
}
