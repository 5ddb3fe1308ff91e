package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openclair/clair/auth"
	"github.com/openclair/clair/image"
	"github.com/openclair/clair/report"
	"github.com/openclair/clair/vuln"
)

// defaultHost is where a local `clair` (combo mode) listens.
const defaultHost = "http://localhost:6060"

// tokenTTL is the life of each request's token: long enough for modest
// clock skew, short enough that a logged token is soon worthless.
const tokenTTL = 5 * time.Minute

func newReport(g *globals) *cobra.Command {
	var (
		host     string
		of       outputFlags
		platform string
		pskKey   string
		pskIss   string
		refs     []string
	)
	c := &cobra.Command{
		Use:   "report [flags] IMAGE...",
		Short: "Have a Clair server index registry images and print their vulnerability reports",
		Long: `Have a Clair server index registry images and print their vulnerability reports.

For each IMAGE (a registry reference, or --image-ref REF), report resolves
its manifest as "clairctl manifest" does, posts it to
HOST/indexer/api/v1/index_report (the server fetches the layers from the
registry with the pull token in the manifest), then prints
HOST/matcher/api/v1/vulnerability_report/DIGEST. With --psk-key every
request carries a JWT signed with that key, for a server configured with
"auth: psk".` + exitCodes,
		Args: func(c *cobra.Command, args []string) error {
			if len(args)+len(refs) == 0 {
				return errors.New("give at least one IMAGE (or --image-ref REF)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if err := of.prepare(ctx); err != nil {
				return err
			}
			p, err := parsePlatform(platform)
			if err != nil {
				return err
			}
			if !c.Flags().Changed("psk-key") {
				pskKey = os.Getenv("CLAIR_PSK_KEY")
			}
			cl, err := newClairClient(host, pskKey, pskIss)
			if err != nil {
				return err
			}
			log := g.logger()
			var docs []*report.Document
			missing := false
			for _, ref := range append(refs, args...) {
				m, err := registryManifest(ctx, ref, p, nil)
				if err != nil {
					return err
				}
				log.Info("indexing", "image", ref, "digest", m.Hash, "layers", len(m.Layers))
				vr, err := cl.report(ctx, m)
				if err != nil {
					return fmt.Errorf("report %s: %w", ref, err)
				}
				var warnings []string
				for _, w := range missingData(vr, ref) {
					fmt.Fprintln(g.stderr, "warning: "+w)
					warnings = append(warnings, w)
					missing = true
				}
				docs = append(docs, of.document(g.stderr, vr, ref, warnings))
			}
			if err := of.write(g.stdout, docs, true); err != nil {
				return err
			}
			return of.verdict(g.stderr, docs, missing)
		},
	}
	envOr := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	c.Flags().StringVar(&host, "host", envOr("CLAIR_HOST", defaultHost), "Clair API base URL (env CLAIR_HOST)")
	of.register(c)
	c.Flags().StringArrayVar(&refs, "image-ref", nil, "an IMAGE to report on (repeatable; same as giving it as an argument)")
	c.Flags().StringVar(&platform, "platform", image.DefaultPlatform, "platform to pick from a multi-platform image")
	// No default from the environment here: cobra prints defaults in
	// --help, and this one is a secret. RunE reads CLAIR_PSK_KEY.
	c.Flags().StringVar(&pskKey, "psk-key", "", "base64 pre-shared key to sign requests with, as in the server's auth.psk.key (env CLAIR_PSK_KEY)")
	c.Flags().StringVar(&pskIss, "psk-iss", envOr("CLAIR_PSK_ISS", "clairctl"), "issuer (iss) of the signed requests; must be in the server's auth.psk.iss (env CLAIR_PSK_ISS)")
	return c
}

// clairClient talks to a Clair server's indexer and matcher APIs.
type clairClient struct {
	base   *url.URL
	http   *http.Client
	key    []byte // nil: requests are not signed
	issuer string
}

func newClairClient(host, pskKey, pskIss string) (*clairClient, error) {
	u, err := url.Parse(strings.TrimRight(host, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--host %q: want an http:// or https:// URL", host)
	}
	cl := &clairClient{base: u, http: &http.Client{}, issuer: pskIss}
	if pskKey != "" {
		if cl.key, err = auth.DecodeKey(pskKey); err != nil {
			return nil, fmt.Errorf("--psk-key: %w", err)
		}
	}
	return cl, nil
}

// report indexes m and fetches its vulnerability report. Indexing an
// already indexed manifest is cheap (the server answers 200 from its
// store), so there is no separate "is it indexed?" round trip.
func (c *clairClient) report(ctx context.Context, m *vuln.Manifest) (*vuln.VulnerabilityReport, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var ir vuln.IndexReport
	if err := c.do(ctx, http.MethodPost, "/indexer/api/v1/index_report", body, &ir, http.StatusCreated, http.StatusOK); err != nil {
		return nil, err
	}
	if ir.Err != "" {
		return nil, fmt.Errorf("indexing failed (state %s): %s", ir.State, ir.Err)
	}
	var vr vuln.VulnerabilityReport
	if err := c.do(ctx, http.MethodGet, "/matcher/api/v1/vulnerability_report/"+url.PathEscape(m.Hash), nil, &vr, http.StatusOK); err != nil {
		return nil, err
	}
	return &vr, nil
}

// do sends one API request and decodes a JSON answer with one of the ok
// statuses into out; any other status becomes an error naming it and the
// server's message.
func (c *clairClient) do(ctx context.Context, method, path string, body []byte, out any, ok ...int) error {
	// Appended, not resolved: a --host with a path prefix (behind a
	// proxy) keeps it.
	u := c.base.String() + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != nil {
		// A fresh token per request: indexing can outlast a token
		// signed at start.
		tok, err := auth.Sign(c.key, c.issuer, tokenTTL)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	for _, s := range ok {
		if res.StatusCode == s {
			if err := json.NewDecoder(res.Body).Decode(out); err != nil {
				return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, serverMessage(res.Body))
}

// serverMessage reads an error answer: Clair's {"code","message"} JSON when
// it is that, else the start of the body as text.
func serverMessage(r io.Reader) string {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil && len(b) == 0 {
		return "(no body: " + err.Error() + ")"
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && (e.Code != "" || e.Message != "") {
		return strings.TrimSpace(strings.Join(nonEmpty(e.Code, e.Message), ": "))
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
