package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/openclair/clair/vuln"
)

// SARIF 2.1.0, the subset GitHub code scanning reads: one rule per
// vulnerability name, one result per (package, vulnerability) pair located
// at the package database or file the package was read from. Suppressed
// findings are results too, carrying a suppression with its reason, as the
// standard asks (code scanning shows them as dismissed).

const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// sarifRun is a run but its results, which SARIF streams ahead of it.
type sarifRun struct {
	Tool sarifTool
	sarifRunRest
}

// sarifRunRest is a run's members after its tool, which SARIF writes
// after the tool's rules, themselves streamed.
type sarifRunRest struct {
	Properties map[string]any  `json:"properties,omitempty"`
	Invocation []sarifInvocErr `json:"invocations,omitempty"`
}

type sarifInvocErr struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string       `json:"level"`
	Message sarifMessage `json:"message"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name,omitempty"`
	ShortDescription sarifMessage   `json:"shortDescription"`
	FullDescription  *sarifMessage  `json:"fullDescription,omitempty"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Default          sarifRuleConf  `json:"defaultConfiguration"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints sarifFingerprints  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifFingerprints struct {
	Clair string `json:"clair/v1"`
}

// sarifResultProps are the finding's facts as properties, for tools that
// read more than the message.
type sarifResultProps struct {
	Package   string `json:"package"`
	Installed string `json:"installed_version"`
	FixedIn   string `json:"fixed_in"`
	Severity  string `json:"severity"`
	Layer     string `json:"layer,omitempty"`
	CVSS      string `json:"cvss_vector,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical       `json:"physicalLocation"`
	LogicalLocations []sarifLogicalPlace `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogicalPlace struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s vuln.Severity) string {
	switch {
	case s >= vuln.High:
		return "error"
	case s == vuln.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub's 0.0–10.0 "security-severity": the CVSS
// base score where the report has one, else the middle of the band GitHub
// maps the normalized severity to (critical ≥ 9.0, high ≥ 7.0, medium ≥
// 4.0, low ≥ 0.1). Unknown severities get none.
func securitySeverity(f *Finding) string {
	if f.CVSS != nil {
		return strconv.FormatFloat(f.CVSS.BaseScore, 'f', 1, 64)
	}
	switch f.Vulnerability.NormalizedSeverity {
	case vuln.Critical:
		return "9.5"
	case vuln.High:
		return "8.0"
	case vuln.Medium:
		return "5.5"
	case vuln.Low:
		return "2.0"
	case vuln.Negligible:
		return "0.1"
	}
	return ""
}

// SARIF writes d as a SARIF 2.1.0 log. The results are encoded one by one
// as they are made, ahead of the run's tool and rules (JSON objects are
// unordered): a large report's log is never held whole in memory.
func SARIF(w io.Writer, d *Document) error {
	active, suppressed := Findings(d)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "clair", InformationURI: "https://github.com/openclair/clair", Rules: []sarifRule{}}},
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	bw.WriteString(`{"$schema":"` + sarifSchema + `","version":"2.1.0","runs":[{"results":[`)
	var encErr error
	n := 0
	ruleIndex := map[string]int{}
	img := subject(d)
	add := func(f *Finding) {
		v := f.Vulnerability
		level := sarifLevel(v.NormalizedSeverity)
		sec := securitySeverity(f)
		i, ok := ruleIndex[v.Name]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			ruleIndex[v.Name] = i
			r := sarifRule{
				ID:               v.Name,
				Name:             v.Name,
				ShortDescription: sarifMessage{Text: v.Name},
				HelpURI:          firstLink(v),
				Default:          sarifRuleConf{Level: level},
				Properties:       map[string]any{"tags": []string{"vulnerability", "security", v.NormalizedSeverity.String()}},
			}
			if v.Description != "" {
				// Not repeated as help: descriptions are most of a
				// large log's bytes.
				r.FullDescription = &sarifMessage{Text: v.Description}
			}
			if sec != "" {
				r.Properties["security-severity"] = sec
			}
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, r)
		} else if r := &run.Tool.Driver.Rules[i]; sec != "" {
			// A name shared by several advisories (one per source
			// package) takes the worst score.
			if old, _ := r.Properties["security-severity"].(string); old == "" || atof(sec) > atof(old) {
				r.Properties["security-severity"] = sec
			}
			if sarifRank(level) > sarifRank(r.Default.Level) {
				r.Default.Level = level
			}
		}
		p := f.Package
		loc := f.Location
		if loc == "" {
			loc = "."
		}
		res := sarifResult{
			RuleID:    v.Name,
			RuleIndex: i,
			Level:     level,
			Message: sarifMessage{Text: fmt.Sprintf("%s %s in %s: %s (%s), fixed in: %s",
				p.Name, p.Version, img, v.Name, v.NormalizedSeverity, f.FixedIn)},
			Locations: []sarifLocation{{
				PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: loc}},
				LogicalLocations: []sarifLogicalPlace{{Name: p.Name, FullyQualifiedName: Purl(d.Report, p), Kind: "package"}},
			}},
			// One alert per image, package and vulnerability across runs.
			PartialFingerprints: sarifFingerprints{Clair: img + "|" + p.Name + "|" + p.Version + "|" + v.Name},
			Properties: sarifResultProps{Package: p.Name, Installed: p.Version, FixedIn: f.FixedIn,
				Severity: v.NormalizedSeverity.String(), Layer: f.Layer},
		}
		if f.CVSS != nil {
			res.Properties.CVSS = f.CVSS.VectorString
		}
		if s := f.Suppressed; s != nil {
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: s.Reason + " (" + s.Source + ")"}}
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		if err := enc.Encode(&res); err != nil && encErr == nil {
			encErr = err
		}
	}
	for i := range active {
		add(&active[i])
	}
	for i := range suppressed {
		add(&suppressed[i])
	}
	if len(d.Warnings) > 0 {
		inv := sarifInvocErr{ExecutionSuccessful: true}
		for _, w := range d.Warnings {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "warning", Message: sarifMessage{Text: w}})
		}
		run.Invocation = []sarifInvocErr{inv}
	}
	if d.Report != nil {
		run.Properties = map[string]any{"manifest_hash": d.Report.ManifestHash, "image": img}
	}
	// The rules too are encoded one by one (their descriptions are most of
	// a large log's bytes): the driver is encoded without them and opened
	// where they go, then the run's members after its tool.
	drv := run.Tool.Driver
	rules := drv.Rules
	drv.Rules = []sarifRule{}
	var head, tail bytes.Buffer
	henc := json.NewEncoder(&head)
	henc.SetEscapeHTML(false)
	err := henc.Encode(&drv)
	tenc := json.NewEncoder(&tail)
	tenc.SetEscapeHTML(false)
	if err == nil {
		err = tenc.Encode(&run.sarifRunRest)
	}
	if err != nil || encErr != nil {
		return fmt.Errorf("report: sarif: %w", errors.Join(err, encErr))
	}
	bw.WriteString(`],"tool":{"driver":`)
	bw.Write(bytes.TrimSuffix(head.Bytes(), []byte("]}\n")))
	for i := range rules {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(&rules[i]); err != nil {
			return fmt.Errorf("report: sarif: %w", err)
		}
	}
	bw.WriteString("]}}")
	if rest := bytes.TrimSuffix(tail.Bytes(), []byte("}\n")); len(rest) > 1 {
		bw.WriteByte(',')
		bw.Write(rest[1:])
	}
	bw.WriteString("}]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: sarif: %w", err)
	}
	return nil
}

func sarifRank(level string) int {
	switch level {
	case "error":
		return 2
	case "warning":
		return 1
	}
	return 0
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// writeJSON encodes v compactly (the machine formats are read by
// programs, and indenting a large report costs as much again as encoding
// it; `jq .` indents); a failure names the format.
func writeJSON(w io.Writer, format string, v any) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("report: %s: %w", format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: %s: %w", format, err)
	}
	return nil
}
