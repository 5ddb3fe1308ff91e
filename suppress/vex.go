package suppress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/package-url/packageurl-go"
)

// ParseVEX reads a VEX document: OpenVEX (0.2, and 0.0.x's string forms)
// or CycloneDX VEX (a CycloneDX JSON BOM with vulnerabilities and their
// analysis). Each statement becomes a Rule whose Source names the file.
//
// Products are matched to the image's packages by package URL (name, and
// version when the URL has one); a product that is the image (an oci or
// docker package URL, CycloneDX's metadata component) or that the document
// cannot place (a bom-ref of another BOM, a bare name) applies to every
// package: the user gave this VEX for this image.
func ParseVEX(name string, b []byte) ([]Rule, error) {
	var probe struct {
		Context   any    `json:"@context"`
		BOMFormat string `json:"bomFormat"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, jsonError(name, b, err)
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return parseCycloneDX(name, b)
	case contextIsOpenVEX(probe.Context):
		return parseOpenVEX(name, b)
	}
	return nil, fmt.Errorf("suppress: %s: not a VEX document: want OpenVEX (\"@context\": \"https://openvex.dev/ns/...\") or CycloneDX (\"bomFormat\": \"CycloneDX\")", name)
}

func contextIsOpenVEX(c any) bool {
	switch c := c.(type) {
	case string:
		return strings.HasPrefix(c, "https://openvex.dev/ns")
	case []any:
		for _, x := range c {
			if contextIsOpenVEX(x) {
				return true
			}
		}
	}
	return false
}

// jsonError names the line of a JSON syntax or type error.
func jsonError(name string, b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return fmt.Errorf("suppress: %s: line %d: %s: want %s, not %s", name, lineOf(b, off), te.Field, te.Type, te.Value)
		}
	}
	if off >= 0 {
		return fmt.Errorf("suppress: %s: line %d: %w", name, lineOf(b, off), err)
	}
	return fmt.Errorf("suppress: %s: %w", name, err)
}

func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

// stringOr decodes a JSON value that is either a string or an object with
// the string under key (OpenVEX 0.0.x wrote vulnerability and products as
// strings; 0.2 as objects).
type openvexVuln struct {
	Name    string   `json:"name"`
	ID      string   `json:"@id"`
	Aliases []string `json:"aliases"`
}

func (v *openvexVuln) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v.Name = s
		return nil
	}
	type plain openvexVuln
	return json.Unmarshal(b, (*plain)(v))
}

type openvexComponent struct {
	ID          string             `json:"@id"`
	Identifiers map[string]string  `json:"identifiers"`
	Sub         []openvexComponent `json:"subcomponents"`
}

func (c *openvexComponent) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		c.ID = s
		return nil
	}
	type plain openvexComponent
	return json.Unmarshal(b, (*plain)(c))
}

func (c *openvexComponent) purl() (packageurl.PackageURL, bool) {
	for _, s := range []string{c.Identifiers["purl"], c.ID} {
		if p, err := packageurl.FromString(s); err == nil && strings.HasPrefix(s, "pkg:") {
			return p, true
		}
	}
	return packageurl.PackageURL{}, false
}

type openvexDoc struct {
	Statements []struct {
		Vulnerability   openvexVuln        `json:"vulnerability"`
		Products        []openvexComponent `json:"products"`
		Subcomponents   []openvexComponent `json:"subcomponents"` // 0.0.x: at statement level
		Status          string             `json:"status"`
		Justification   string             `json:"justification"`
		ImpactStatement string             `json:"impact_statement"`
		StatusNotes     string             `json:"status_notes"`
		ActionStatement string             `json:"action_statement"`
	} `json:"statements"`
}

func parseOpenVEX(name string, b []byte) ([]Rule, error) {
	var d openvexDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, jsonError(name, b, err)
	}
	var rules []Rule
	for i, s := range d.Statements {
		field := fmt.Sprintf("statements[%d]", i)
		if s.Vulnerability.Name == "" {
			return nil, fmt.Errorf("suppress: %s: %s.vulnerability.name is missing", name, field)
		}
		r := Rule{
			IDs:    append([]string{s.Vulnerability.Name}, s.Vulnerability.Aliases...),
			Status: s.Status,
			Source: "vex " + name,
		}
		switch s.Status {
		case NotAffected:
			if s.Justification == "" && s.ImpactStatement == "" {
				return nil, fmt.Errorf("suppress: %s: %s: status not_affected needs a justification or an impact_statement", name, field)
			}
			r.Reason = joinReason("not_affected", s.Justification, s.ImpactStatement)
		case Fixed:
			r.Reason = joinReason("fixed", s.StatusNotes)
		case Affected:
			r.Reason = joinReason("affected", s.ActionStatement)
		case UnderInvestigation:
			r.Reason = joinReason("under_investigation", s.StatusNotes)
		default:
			return nil, fmt.Errorf("suppress: %s: %s.status %q: want not_affected, affected, fixed or under_investigation", name, field, s.Status)
		}
		products := s.Products
		for _, p := range products {
			subs := p.Sub
			if len(s.Subcomponents) > 0 {
				subs = append(subs, s.Subcomponents...)
			}
			pu, ok := p.purl()
			isImage := !ok || pu.Type == packageurl.TypeOCI || pu.Type == packageurl.TypeDocker
			switch {
			case len(subs) > 0:
				for _, sc := range subs {
					if spu, ok := sc.purl(); ok {
						r.Products = append(r.Products, spu)
					}
				}
				if isImage && ok {
					// Keep the image's own purl out: it would match every
					// package; but its digest still has to be this image.
					r.imageDigest = pu.Version
				}
			case isImage && !ok:
				r.Whole = true
			default:
				r.Products = append(r.Products, pu)
			}
		}
		if len(products) == 0 {
			r.Whole = true
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func joinReason(status string, parts ...string) string {
	out := status
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out += ": " + p
		}
	}
	return out
}

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	Purl       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

type cdxDoc struct {
	Metadata struct {
		Component *cdxComponent `json:"component"`
	} `json:"metadata"`
	Components      []cdxComponent `json:"components"`
	Vulnerabilities []struct {
		ID         string `json:"id"`
		References []struct {
			ID string `json:"id"`
		} `json:"references"`
		Analysis *struct {
			State         string   `json:"state"`
			Justification string   `json:"justification"`
			Response      []string `json:"response"`
			Detail        string   `json:"detail"`
		} `json:"analysis"`
		Affects []struct {
			Ref string `json:"ref"`
		} `json:"affects"`
	} `json:"vulnerabilities"`
}

// cdxStates maps CycloneDX analysis states to VEX statuses.
var cdxStates = map[string]string{
	"not_affected":           NotAffected,
	"false_positive":         NotAffected,
	"resolved":               Fixed,
	"resolved_with_pedigree": Fixed,
	"exploitable":            Affected,
	"in_triage":              UnderInvestigation,
}

func parseCycloneDX(name string, b []byte) ([]Rule, error) {
	var d cdxDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, jsonError(name, b, err)
	}
	refs := map[string]*cdxComponent{}
	var walk func([]cdxComponent)
	walk = func(cs []cdxComponent) {
		for i := range cs {
			if cs[i].BOMRef != "" {
				refs[cs[i].BOMRef] = &cs[i]
			}
			walk(cs[i].Components)
		}
	}
	walk(d.Components)
	top := ""
	if d.Metadata.Component != nil {
		top = d.Metadata.Component.BOMRef
	}
	var rules []Rule
	for i, v := range d.Vulnerabilities {
		field := fmt.Sprintf("vulnerabilities[%d]", i)
		if v.Analysis == nil {
			continue // a vulnerability listed without a statement on it
		}
		if v.ID == "" {
			return nil, fmt.Errorf("suppress: %s: %s.id is missing", name, field)
		}
		st, ok := cdxStates[v.Analysis.State]
		if !ok {
			return nil, fmt.Errorf("suppress: %s: %s.analysis.state %q: want one of not_affected, false_positive, resolved, resolved_with_pedigree, exploitable, in_triage", name, field, v.Analysis.State)
		}
		r := Rule{IDs: []string{v.ID}, Status: st, Source: "vex " + name}
		for _, ref := range v.References {
			if ref.ID != "" {
				r.IDs = append(r.IDs, ref.ID)
			}
		}
		r.Reason = joinReason(v.Analysis.State, v.Analysis.Justification, v.Analysis.Detail)
		for _, a := range v.Affects {
			ref := a.Ref
			if i := strings.LastIndexByte(ref, '#'); i >= 0 && strings.HasPrefix(ref, "urn:cdx:") {
				ref = ref[i+1:]
			}
			purl := ""
			if c, ok := refs[ref]; ok {
				purl = c.Purl
			} else if strings.HasPrefix(ref, "pkg:") && ref != top {
				purl = ref
			}
			if pu, err := packageurl.FromString(purl); err == nil && purl != "" &&
				pu.Type != packageurl.TypeOCI && pu.Type != packageurl.TypeDocker {
				r.Products = append(r.Products, pu)
				continue
			}
			r.Whole = true
		}
		if len(v.Affects) == 0 {
			r.Whole = true
		}
		rules = append(rules, r)
	}
	return rules, nil
}
