package amazon

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/openclair/clair/feed"
	"github.com/openclair/clair/feed/internal/date"
	"github.com/openclair/clair/vuln"
)

// update is one <update> of updateinfo.xml.
type update struct {
	Type     string `xml:"type,attr"`
	ID       string `xml:"id"`
	Title    string `xml:"title"`
	Severity string `xml:"severity"`
	Desc     string `xml:"description"`
	Issued   struct {
		Date string `xml:"date,attr"`
	} `xml:"issued"`
	Refs []struct {
		Href string `xml:"href,attr"`
		ID   string `xml:"id,attr"`
		Type string `xml:"type,attr"`
	} `xml:"references>reference"`
	Pkgs []struct {
		Name    string `xml:"name,attr"`
		Epoch   string `xml:"epoch,attr"`
		Version string `xml:"version,attr"`
		Release string `xml:"release,attr"`
		Arch    string `xml:"arch,attr"`
	} `xml:"pkglist>collection>package"`
}

// ParseUpdateinfo reads one updateinfo.xml (plain, gzip, bzip2, xz or zstd) and emits the
// advisories of namespace ns, one <update> in memory at a time.
func ParseUpdateinfo(ctx context.Context, ns string, r io.Reader, emit func(*vuln.Advisory) error) error {
	dr, _, err := feed.Decompress(r, maxUpdateinfo)
	if err != nil {
		return err
	}
	defer dr.Close()
	r = dr
	d := xml.NewDecoder(r)
	d.Strict = true
	root := false
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			l, _ := d.InputPos()
			return fmt.Errorf("line %d: %w", l, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !root {
			if se.Name.Local != "updates" {
				return fmt.Errorf("root element is <%s>, want <updates>", se.Name.Local)
			}
			root = true
			continue
		}
		if se.Name.Local != "update" {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		var u update
		l, _ := d.InputPos()
		if err := d.DecodeElement(&u, &se); err != nil {
			return fmt.Errorf("line %d: <update>: %w", l, err)
		}
		if err := emitUpdate(ns, &u, emit); err != nil {
			return fmt.Errorf("line %d: update %s: %w", l, clip(u.ID), err)
		}
	}
	if !root {
		return errors.New("no <updates> element")
	}
	return nil
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// NormalizeSeverity maps ALAS severities to Clair's scale.
func NormalizeSeverity(s string) vuln.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return vuln.Critical
	case "important":
		return vuln.High
	case "medium", "moderate":
		return vuln.Medium
	case "low":
		return vuln.Low
	}
	return vuln.Unknown
}

// alasLink is the ALAS page of an id: ALAS-2018-939 (AMI),
// ALAS2-2023-2000 (AL2), ALAS2023-2023-126 (AL2023).
func alasLink(id string) string {
	switch {
	case strings.HasPrefix(id, "ALAS2023-"):
		return "https://alas.aws.amazon.com/AL2023/ALAS-" + strings.TrimPrefix(id, "ALAS2023-") + ".html"
	case strings.HasPrefix(id, "ALAS2-"):
		return "https://alas.aws.amazon.com/AL2/ALAS-" + strings.TrimPrefix(id, "ALAS2-") + ".html"
	case strings.HasPrefix(id, "ALAS-"):
		return "https://alas.aws.amazon.com/" + id + ".html"
	}
	return ""
}

func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// maxDescription bounds the stored description.
const maxDescription = 8 << 10

func emitUpdate(ns string, u *update, emit func(*vuln.Advisory) error) error {
	if !strings.EqualFold(u.Type, "security") {
		return nil
	}
	id := strings.TrimSpace(u.ID)
	if id == "" {
		return errors.New("<id> is empty")
	}
	var cves, links []string
	if l := alasLink(id); l != "" {
		links = append(links, l)
	}
	for _, r := range u.Refs {
		rid := strings.TrimSpace(r.ID)
		if strings.EqualFold(r.Type, "cve") && cveRE.MatchString(rid) && !slices.Contains(cves, rid) {
			cves = append(cves, rid)
		}
		if h := strings.TrimSpace(r.Href); h != "" && !slices.Contains(links, h) {
			links = append(links, h)
		}
	}
	names := cves
	if len(names) == 0 {
		names = []string{id}
	}
	// One statement per package name and fixed version, with the
	// architectures the update ships it for.
	type fix struct{ name, evr string }
	arches := map[fix][]string{}
	var order []fix
	for i, p := range u.Pkgs {
		name := strings.TrimSpace(p.Name)
		if name == "" || p.Version == "" {
			return fmt.Errorf("pkglist package %d: name or version is empty", i)
		}
		arch := strings.TrimSpace(p.Arch)
		if arch == "src" || arch == "nosrc" {
			continue
		}
		evr := p.Version
		if p.Release != "" {
			evr += "-" + p.Release
		}
		if e := strings.TrimSpace(p.Epoch); e != "" && e != "0" {
			evr = e + ":" + evr
		}
		k := fix{name, evr}
		if _, ok := arches[k]; !ok {
			order = append(order, k)
		}
		if arch != "" && !slices.Contains(arches[k], arch) {
			arches[k] = append(arches[k], arch)
		}
	}
	sev := strings.TrimSpace(u.Severity)
	desc := strings.TrimSpace(u.Desc)
	if len(desc) > maxDescription {
		desc = strings.ToValidUTF8(desc[:maxDescription], "") + "…"
	}
	issued := date.Parse(u.Issued.Date)
	for _, k := range order {
		as := arches[k]
		sort.Strings(as)
		for _, n := range names {
			a := &vuln.Advisory{
				Feed:               Name,
				Name:               n,
				Namespace:          ns,
				Package:            k.name,
				VersionFormat:      "rpm",
				State:              vuln.StateAffected,
				Ranges:             []vuln.Range{{Fixed: k.evr}},
				FixedIn:            k.evr,
				Arches:             as,
				Severity:           sev,
				NormalizedSeverity: NormalizeSeverity(sev),
				Description:        desc,
				Links:              links,
				Issued:             issued,
			}
			if n != id {
				a.Aliases = []string{id}
			}
			if err := emit(a); err != nil {
				return err
			}
		}
	}
	return nil
}
