package redhat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/openclair/clair/internal/cpe"
	"github.com/openclair/clair/limit"
	"github.com/openclair/clair/vuln"
)

// csaf is the part of a CSAF 2.0 VEX document the feed reads.
type csaf struct {
	Document struct {
		Tracking struct {
			ID                 string `json:"id"`
			Status             string `json:"status"`
			InitialReleaseDate string `json:"initial_release_date"`
		} `json:"tracking"`
		AggregateSeverity struct {
			Text string `json:"text"`
		} `json:"aggregate_severity"`
	} `json:"document"`
	ProductTree struct {
		Branches      []branch `json:"branches"`
		Relationships []struct {
			Category        string `json:"category"`
			FullProductName struct {
				ProductID string `json:"product_id"`
			} `json:"full_product_name"`
			ProductReference          string `json:"product_reference"`
			RelatesToProductReference string `json:"relates_to_product_reference"`
		} `json:"relationships"`
	} `json:"product_tree"`
	Vulnerabilities []vulnerability `json:"vulnerabilities"`
}

type branch struct {
	Category string   `json:"category"`
	Name     string   `json:"name"`
	Branches []branch `json:"branches"`
	Product  *product `json:"product"`
}

type product struct {
	ProductID string `json:"product_id"`
	Helper    struct {
		CPE  string `json:"cpe"`
		PURL string `json:"purl"`
	} `json:"product_identification_helper"`
}

type vulnerability struct {
	CVE         string `json:"cve"`
	ReleaseDate string `json:"release_date"`
	Notes       []struct {
		Category string `json:"category"`
		Text     string `json:"text"`
	} `json:"notes"`
	References []struct {
		Category string `json:"category"`
		URL      string `json:"url"`
	} `json:"references"`
	ProductStatus map[string][]string `json:"product_status"`
	Remediations  []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		URL        string   `json:"url"`
		ProductIDs []string `json:"product_ids"`
	} `json:"remediations"`
	Threats []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		ProductIDs []string `json:"product_ids"`
	} `json:"threats"`
}

// maxDoc bounds one VEX document, which is decoded whole. The largest real
// ones (kernel CVEs listing every product stream) are tens of megabytes.
const maxDoc = 512 << 20

// statusKey groups a document's product statuses into advisories: one per
// namespace, package, module and outcome, as the report shows them. The
// product streams (repositories), architectures and errata behind a group
// become its qualifiers and links.
type statusKey struct {
	ns, pkg, module string
	state           vuln.State
	fixed           string
}

type group struct {
	arches   map[string]bool
	repos    map[string]bool
	links    map[string]bool
	severity string
	sev      vuln.Severity
}

// parseDoc decodes one VEX document and emits its advisories. name is the
// document's path in the snapshot, for errors.
func parseDoc(name string, r io.Reader, emit func(*vuln.Advisory) error) error {
	var doc csaf
	dec := json.NewDecoder(limit.Reader(r, maxDoc))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("redhat: %s: offset %d: %w", name, dec.InputOffset(), err)
	}
	if dec.InputOffset() > maxDoc {
		return fmt.Errorf("redhat: %s: document larger than %d bytes", name, maxDoc)
	}
	if strings.EqualFold(doc.Document.Tracking.Status, "deleted") {
		// Red Hat keeps withdrawn CVEs as stubs marked deleted.
		return nil
	}
	products := map[string]*product{}
	var walk func(bs []branch, depth int) error
	walk = func(bs []branch, depth int) error {
		if depth > 32 {
			return errors.New("product_tree: branches nested deeper than 32 levels")
		}
		for i := range bs {
			if p := bs[i].Product; p != nil && p.ProductID != "" {
				products[p.ProductID] = p
			}
			if err := walk(bs[i].Branches, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(doc.ProductTree.Branches, 0); err != nil {
		return fmt.Errorf("redhat: %s: %w", name, err)
	}
	// A status names "platform:component": the relationship says which
	// component (a package purl) is shipped in which platform (a product
	// stream with a CPE).
	type rel struct{ component, platform string }
	rels := make(map[string]rel, len(doc.ProductTree.Relationships))
	for _, r := range doc.ProductTree.Relationships {
		if r.FullProductName.ProductID == "" {
			continue
		}
		rels[r.FullProductName.ProductID] = rel{r.ProductReference, r.RelatesToProductReference}
	}

	for vi := range doc.Vulnerabilities {
		v := &doc.Vulnerabilities[vi]
		id := strings.TrimSpace(v.CVE)
		if id == "" {
			id = strings.TrimSpace(doc.Document.Tracking.ID)
		}
		if id == "" {
			return fmt.Errorf("redhat: %s: vulnerabilities[%d]: no cve and no document.tracking.id", name, vi)
		}
		// Per-product facts: the erratum that fixed it, whether a fix is
		// planned, how bad Red Hat rates it there.
		remedy := map[string]string{} // product id -> RHSA URL
		noFix := map[string]bool{}    // product id -> will not be fixed
		for _, rm := range v.Remediations {
			for _, pid := range rm.ProductIDs {
				switch rm.Category {
				case "vendor_fix":
					if rm.URL != "" {
						remedy[pid] = rm.URL
					}
				case "no_fix_planned":
					noFix[pid] = true
				}
			}
		}
		impact := map[string]string{}
		for _, t := range v.Threats {
			if t.Category != "impact" {
				continue
			}
			for _, pid := range t.ProductIDs {
				impact[pid] = t.Details
			}
		}

		groups := map[statusKey]*group{}
		covered := map[[2]string]bool{} // (ns, pkg) with an affected or fixed statement
		add := func(pid string, state vuln.State) error {
			rl, ok := rels[pid]
			if !ok {
				return nil // a product without a component: middleware, images
			}
			plat, comp := products[rl.platform], products[rl.component]
			if plat == nil || comp == nil || plat.Helper.CPE == "" || comp.Helper.PURL == "" {
				return nil
			}
			ns, ok := Namespace(plat.Helper.CPE)
			if !ok {
				return nil // a layered product or no RHEL release: see Namespace
			}
			// A malformed purl or rpmmod skips that one product, as in
			// claircore: one bad entry upstream must not stop every Red Hat
			// update.
			pu, err := packageurl.FromString(comp.Helper.PURL)
			if err != nil {
				return nil
			}
			if pu.Type != packageurl.TypeRPM || pu.Namespace != "redhat" || pu.Name == "" {
				return nil // container images, generic components, other vendors' rpms
			}
			if strings.HasPrefix(pu.Name, "kernel") {
				// A container does not run its own kernel; claircore skips
				// kernel advisories for the same reason.
				return nil
			}
			q := pu.Qualifiers.Map()
			arch := q["arch"]
			mod, err := moduleOf(q["rpmmod"])
			if err != nil {
				return nil
			}
			k := statusKey{ns: ns, pkg: pu.Name, module: mod, state: state}
			if state == vuln.StateAffected {
				if arch == "src" || pu.Version == "" {
					// The binaries of the same build are listed too; an
					// installed package is never a source rpm.
					return nil
				}
				epoch := q["epoch"]
				if epoch == "" {
					epoch = "0"
				}
				k.fixed = epoch + ":" + pu.Version
			} else {
				arch = "" // statements about a component, not a build
			}
			if state != vuln.StateNotAffected {
				covered[[2]string{ns, pu.Name}] = true
			}
			g := groups[k]
			if g == nil {
				g = &group{arches: map[string]bool{}, repos: map[string]bool{}, links: map[string]bool{}}
				groups[k] = g
			}
			if state == vuln.StateAffected && arch != "" {
				g.arches[arch] = true
			}
			g.repos[plat.Helper.CPE] = true
			if u := remedy[pid]; u != "" && state == vuln.StateAffected {
				g.links[u] = true
			}
			word := impact[pid]
			if word == "" {
				word = doc.Document.AggregateSeverity.Text
			}
			if s := normalize(word); s > g.sev || g.severity == "" {
				g.sev, g.severity = s, word
			}
			return nil
		}
		for _, st := range []struct {
			key   string
			state func(pid string) vuln.State
		}{
			{"fixed", func(string) vuln.State { return vuln.StateAffected }},
			{"known_affected", func(pid string) vuln.State {
				if noFix[pid] {
					return vuln.StateWontFix
				}
				return vuln.StateUnfixed
			}},
			{"known_not_affected", func(string) vuln.State { return vuln.StateNotAffected }},
		} {
			for _, pid := range v.ProductStatus[st.key] {
				if err := add(pid, st.state(pid)); err != nil {
					return fmt.Errorf("redhat: %s: vulnerabilities[%d] (%s): product_status.%s: %w", name, vi, id, st.key, err)
				}
			}
		}
		if err := emitGroups(id, v, doc.Document.Tracking.InitialReleaseDate, groups, covered, emit); err != nil {
			return err
		}
	}
	return nil
}

// emitGroups turns one vulnerability's groups into advisories, in a stable
// order. A "not affected" statement is left out where the same document says
// the package is affected or fixed in the same release (in another product
// stream): the matcher lets a feed's "not affected" cancel its other
// statements of the CVE for that package, which would hide the real ones.
func emitGroups(id string, v *vulnerability, docDate string, groups map[statusKey]*group, covered map[[2]string]bool, emit func(*vuln.Advisory) error) error {
	keys := make([]statusKey, 0, len(groups))
	for k := range groups {
		if k.state == vuln.StateNotAffected && covered[[2]string{k.ns, k.pkg}] {
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		if a.pkg != b.pkg {
			return a.pkg < b.pkg
		}
		if a.module != b.module {
			return a.module < b.module
		}
		if a.state != b.state {
			return a.state < b.state
		}
		return a.fixed < b.fixed
	})
	var desc, self string
	for _, n := range v.Notes {
		if n.Category == "description" {
			desc = n.Text
		}
	}
	for _, r := range v.References {
		if r.Category == "self" && r.URL != "" {
			self = r.URL
		}
	}
	if self == "" && strings.HasPrefix(id, "CVE-") {
		self = "https://access.redhat.com/security/cve/" + id
	}
	issued := parseTime(v.ReleaseDate)
	if issued.IsZero() {
		issued = parseTime(docDate)
	}
	for _, k := range keys {
		g := groups[k]
		a := &vuln.Advisory{
			Name:               id,
			Namespace:          k.ns,
			Package:            k.pkg,
			VersionFormat:      "rpm",
			State:              k.state,
			Module:             k.module,
			Arches:             sortedSet(g.arches),
			Repositories:       sortedSet(g.repos),
			Severity:           g.severity,
			NormalizedSeverity: g.sev,
			Description:        desc,
			Issued:             issued,
		}
		if k.state == vuln.StateAffected {
			a.FixedIn = k.fixed
			a.Ranges = []vuln.Range{{Fixed: k.fixed}}
		}
		for _, u := range sortedSet(g.links) {
			a.Links = append(a.Links, u)
			if i := strings.LastIndex(u, "/"); i >= 0 && strings.HasPrefix(u[i+1:], "RH") {
				a.Aliases = append(a.Aliases, u[i+1:]) // RHSA-2023:6745
			}
		}
		if self != "" {
			a.Links = append(a.Links, self)
		}
		if err := emit(a); err != nil {
			return err
		}
	}
	return nil
}

// moduleOf turns a purl rpmmod qualifier (name:stream:version:context) into
// the name:stream that the rpm database's modularity label gives installed
// packages.
func moduleOf(rpmmod string) (string, error) {
	if rpmmod == "" {
		return "", nil
	}
	name, rest, ok := strings.Cut(rpmmod, ":")
	stream, _, _ := strings.Cut(rest, ":")
	if !ok || name == "" || stream == "" {
		return "", fmt.Errorf("rpmmod %q is not name:stream[:version:context]", rpmmod)
	}
	return name + ":" + stream, nil
}

// normalize maps Red Hat's impact ratings to Clair's scale.
func normalize(word string) vuln.Severity {
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "low":
		return vuln.Low
	case "moderate":
		return vuln.Medium
	case "important":
		return vuln.High
	case "critical":
		return vuln.Critical
	}
	return vuln.Unknown
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func sortedSet(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rhelProducts are the CPE products of RHEL itself and its extended-life
// streams. Layered products (OpenShift, Satellite, JBoss Core Services, …)
// also ship rpms, but their own builds of packages the base release has too
// (runc, podman, …); an image without repository information would have its
// base packages compared with them, so they are left out.
var rhelProducts = map[string]bool{
	"enterprise_linux":     true,
	"enterprise_linux_eus": true,
	"rhel":                 true,
	"rhel_eus":             true,
	"rhel_e4s":             true,
	"rhel_aus":             true,
	"rhel_tus":             true,
	"rhel_els":             true,
	"rhel_eus_long_life":   true,
}

// Namespace maps a Red Hat product CPE to the advisory namespace of its RHEL
// major release: cpe:/o:redhat:enterprise_linux:9::baseos,
// cpe:/a:redhat:enterprise_linux:8::appstream and
// cpe:/a:redhat:rhel_eus:9.2::appstream all belong to a "rhel:N" image, which
// is how vuln.Namespace names RHEL, UBI and CentOS. claircore keys on the CPE
// alone (matched against the image's repository CPEs); the CPE stays on the
// advisory as its Repositories qualifier, so nothing of it is lost.
func Namespace(name string) (string, bool) {
	f := cpe.Fields(name)
	if len(f) < 4 || f[1] != "redhat" || !rhelProducts[f[2]] {
		return "", false
	}
	major, _, _ := strings.Cut(f[3], ".")
	if major == "" || strings.Trim(major, "0123456789") != "" {
		return "", false
	}
	return "rhel:" + major, true
}
