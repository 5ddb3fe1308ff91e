package layerfetch

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/openclair/clair/digest"
	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/vuln"
)

// ManifestError is a manifest the Fetcher cannot use; Field names the
// offending part as in the JSON ("layers[2].uri").
type ManifestError struct {
	Field string
	Err   error
}

func (e *ManifestError) Error() string {
	return "invalid manifest: " + e.Field + ": " + e.Err.Error()
}

func (e *ManifestError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &ManifestError{Field: field, Err: fmt.Errorf(format, args...)}
}

// checkDigest checks a digest as the APIs accept it (package digest).
func checkDigest(d string) error {
	_, err := digest.Parse(d)
	return err
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters, which could split a
// request (CR, LF) or truncate it (NUL).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Image checks m and returns the image it describes. Nothing is fetched
// yet: each layer is requested when the indexer opens it, with its
// headers and nothing else the Fetcher does not need to send (a
// User-Agent, unless the headers name one). A layer's blob is checked
// against its digest as it streams; the indexer learns of a mismatch as
// an error at the end of the stream, before it trusts what it read. An
// invalid manifest is a *ManifestError, of kind errkind.Invalid (its text
// quotes only what the client sent).
func (f *Fetcher) Image(m *vuln.Manifest) (*image.Image, error) {
	img, err := f.image(m)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err.Error(), err)
	}
	return img, nil
}

func (f *Fetcher) image(m *vuln.Manifest) (*image.Image, error) {
	if m == nil {
		return nil, &ManifestError{Field: "manifest", Err: errors.New("missing")}
	}
	if err := checkDigest(m.Hash); err != nil {
		return nil, &ManifestError{Field: "hash", Err: err}
	}
	if len(m.Layers) == 0 {
		return nil, invalid("layers", "no layers")
	}
	if len(m.Layers) > f.maxLayers() {
		return nil, invalid("layers", "%d layers, more than the limit of %d", len(m.Layers), f.maxLayers())
	}
	img := &image.Image{Ref: m.Hash, ManifestDigest: m.Hash}
	for i, ml := range m.Layers {
		field := fmt.Sprintf("layers[%d]", i)
		if ml == nil {
			return nil, invalid(field, "missing")
		}
		if err := checkDigest(ml.Hash); err != nil {
			return nil, &ManifestError{Field: field + ".hash", Err: err}
		}
		u, err := parseURI(field+".uri", ml.URI)
		if err != nil {
			return nil, err
		}
		// An address literal the policy refuses is refused now, as a
		// client error, rather than when the indexer gets to the layer.
		// Names are checked when dialled.
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !f.AllowPrivate {
			if reason, blocked := Classify(ip); blocked {
				return nil, &ManifestError{Field: field + ".uri", Err: &BlockedError{Addr: netip.AddrPortFrom(ip, portOf(u)), Reason: reason, Hint: f.hint()}}
			}
		}
		hdr, err := requestHeader(field+".headers", ml.Headers)
		if err != nil {
			return nil, err
		}
		l := &layer{f: f, digest: ml.Hash, url: u, header: hdr}
		img.Layers = append(img.Layers, image.NewLayer(ml.Hash, "", 0, l.open))
	}
	return img, nil
}

// parseURI parses and checks a layer's URI; field names it in errors.
func parseURI(field, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, invalid(field, "missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URI, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &ManifestError{Field: field, Err: err}
	}
	if err := checkURL(u); err != nil {
		return nil, &ManifestError{Field: field, Err: err}
	}
	return u, nil
}

// requestHeader checks a layer's headers and returns them with canonical
// keys, so that checkRedirect's Del finds "authorization" too, and as a
// copy, so that the caller's map may change afterwards.
func requestHeader(field string, headers map[string][]string) (http.Header, error) {
	hdr := make(http.Header, len(headers)+1)
	for k, vs := range headers {
		if !validHeaderName(k) {
			return nil, invalid(field, "%q is not a valid header name", k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return nil, invalid(field, "%s: value holds control characters", k)
			}
			hdr.Add(k, v)
		}
	}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr.Set("User-Agent", userAgent)
	}
	return hdr, nil
}

func portOf(u *url.URL) uint16 {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return uint16(p)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}
