package oval

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	rpmver "github.com/openclair/clair/version/rpm"
)

// A definition's criteria tree is a boolean formula over tests. The feeds
// write it in one of a few shapes:
//
//	AND(release, OR(AND(pkg < v, signed), AND(pkg2 < v, signed), ...))   Oracle, Photon
//	AND(release, OR(AND(arch, OR(AND(pkg < v, signed), ...)), ...))       Oracle per-arch
//	OR(AND(OR(release, ...), OR(pkg < v, ...)), ...)                      SUSE
//	AND(pkg < v [, pkg > w])                                               Mariner, Azure Linux
//
// The resolver expands the tree into its disjunctive normal form (an OR of
// ANDs of atoms) and reads each AND as one statement: "in this release, on
// these architectures, package P is affected in this range". Atoms it
// cannot turn into a statement either drop the conjunction they are in
// (a release it does not recognise, a ksplice-only fix) or are read as true
// (a signature check, an unknown test kind), and each such case is counted
// in Stats.

// atomKind classifies one criterion.
type atomKind uint8

const (
	aTrue    atomKind = iota // no constraint this reader can express: read as true
	aRelease                 // the distribution release: ns
	aArch                    // the machine architecture: arches
	aPackage                 // a package version constraint
	aDrop                    // a constraint that makes the conjunction unusable
)

// atom is one resolved criterion.
type atom struct {
	kind   atomKind
	ns     string
	arches []string // aArch, or the package state's arch pattern
	name   string   // package
	op     string   // lt, le, gt, ge, eq, none (not affected)
	evr    string
	why    string // aDrop and aTrue: the note counted in Stats
}

// maxConjunctions bounds the disjunctive normal form of one definition. Real
// definitions stay far below (a SUSE kernel definition: a few thousand);
// past it the definition is skipped with a note rather than exhausting
// memory on a hostile document.
const maxConjunctions = 1 << 18

// errTooLarge reports a definition whose criteria expand past the bound.
var errTooLarge = fmt.Errorf("criteria expand to more than %d alternatives", maxConjunctions)

// resolver turns definitions into statements with one document's index.
type resolver struct {
	ix    *index
	dist  *Distro
	stats *Stats
	atoms []atom // this definition's atoms; conjunctions hold indices
	// allSys collects the machine architectures the definition's branches
	// test, so that a fix shared by all of them applies to every one.
	allSys []string
}

// conj is one AND of atoms (indices into resolver.atoms).
type conj []int32

// dnf returns c's disjunctive normal form. An empty list is false, a list
// holding one empty conjunction is true.
func (r *resolver) dnf(c *Criteria) ([]conj, error) {
	if isTrue(c.Negate) {
		// Negated subtrees do not occur in the feeds served here; reading
		// one as true keeps its siblings' constraints.
		r.stats.note("negated criteria read as true")
		return []conj{{}}, nil
	}
	var parts [][]conj
	for i := range c.Criterion {
		parts = append(parts, []conj{{r.criterion(&c.Criterion[i])}})
	}
	for i := range c.Criteria {
		p, err := r.dnf(&c.Criteria[i])
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	if len(c.Extend) > 0 {
		r.stats.note("extend_definition read as true")
	}
	op := strings.ToUpper(strings.TrimSpace(c.Operator))
	if op == "" {
		op = "AND" // OVAL's default
	}
	if op == "AND" {
		out := []conj{{}}
		for _, p := range parts {
			if len(p)*len(out) > maxConjunctions {
				return nil, errTooLarge
			}
			next := make([]conj, 0, len(p)*len(out))
			for _, a := range out {
				for _, b := range p {
					c := make(conj, 0, len(a)+len(b))
					c = append(append(c, a...), b...)
					next = append(next, c)
				}
			}
			out = next
		}
		return out, nil
	}
	if op != "OR" {
		// ONE and XOR: every alternative is still one way to be affected.
		r.stats.note("criteria operator " + op + " read as OR")
	}
	var out []conj
	for _, p := range parts {
		if len(out)+len(p) > maxConjunctions {
			return nil, errTooLarge
		}
		out = append(out, p...)
	}
	return out, nil
}

func isTrue(s string) bool { s = strings.TrimSpace(s); return s == "true" || s == "1" }

// Comment patterns. Comments are the vendors' own words for the test; the
// release test's comment is the one place the release is spelled out
// ("Oracle Linux 8 is installed", "SUSE Linux Enterprise Server 15 SP5 is
// installed"), and truncated documents (vunnel's fixtures) keep criterion
// comments but drop the tests.
var (
	archComment        = regexp.MustCompile(`(?i)\barch(?:itecture)? is ([A-Za-z0-9_]+)$`)
	notAffectedComment = regexp.MustCompile(`^(\S+) is not affected$`)
	earlierComment     = regexp.MustCompile(`^(?:Package )?(\S+) is earlier than (\S+?),?(?: affected by .*)?$`)
	suseLessComment    = regexp.MustCompile(`^(\S+) is <(\S+?)(?: for .*)?$`)
	signedComment      = regexp.MustCompile(`^(\S+) is signed with `)
)

// criterion resolves one criterion to an atom and returns its index.
func (r *resolver) criterion(c *Criterion) int32 {
	a := r.resolve(c)
	if isTrue(c.Negate) {
		a = negate(a)
	}
	switch a.kind {
	case aDrop, aTrue:
		if a.why != "" {
			r.stats.note(a.why)
		}
	}
	r.atoms = append(r.atoms, a)
	return int32(len(r.atoms) - 1)
}

// negate flips a version constraint ("not earlier than v" is "v or
// later"); a negated release or architecture is not something a namespace
// can say, so the conjunction is dropped.
func negate(a atom) atom {
	switch a.kind {
	case aPackage:
		flip := map[string]string{"lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
		if f, ok := flip[a.op]; ok {
			a.op = f
			return a
		}
		return atom{kind: aDrop, why: "negated package test that is not a version comparison"}
	case aRelease, aArch:
		return atom{kind: aDrop, why: "negated release or architecture test"}
	}
	return a
}

func (r *resolver) resolve(c *Criterion) atom {
	t := r.ix.tests[c.TestRef]
	comments := []string{strings.TrimSpace(c.Comment)}
	if t != nil && t.comment != "" {
		comments = append(comments, t.comment)
	}
	for _, cm := range comments {
		if ns, ok := r.dist.release(cm); ok {
			return atom{kind: aRelease, ns: ns}
		}
	}
	for _, cm := range comments {
		if m := notAffectedComment.FindStringSubmatch(cm); m != nil {
			return atom{kind: aPackage, name: m[1], op: "none"}
		}
	}
	if t == nil {
		a := r.fromComment(comments[0])
		if a.kind == aPackage || a.kind == aArch {
			r.stats.note("criterion whose test is missing read from its comment")
		}
		return a
	}
	switch t.kind {
	case "rpminfo_test":
		return r.rpminfo(t, comments)
	case "uname_test":
		for _, sref := range t.states {
			if s := r.ix.states[sref]; s != nil && s.processor.Value != "" {
				if arches := archList(s.processor); arches != nil {
					return atom{kind: aArch, arches: arches}
				}
			}
		}
		return atom{kind: aTrue, why: "uname_test without a processor_type read as true"}
	case "family_test":
		return atom{kind: aTrue}
	case "textfilecontent54_test", "textfilecontent_test":
		// Release files (/etc/os-release, /etc/redhat-release) tested by
		// content: the release comment, handled above, names the release;
		// anything else says nothing about packages.
		return atom{kind: aTrue, why: t.kind + " that names no known release read as true"}
	}
	return atom{kind: aTrue, why: "unknown test kind " + t.kind + " read as true"}
}

// fromComment reads a criterion whose test the document lacks.
func (r *resolver) fromComment(cm string) atom {
	if m := archComment.FindStringSubmatch(cm); m != nil {
		return atom{kind: aArch, arches: []string{m[1]}}
	}
	if m := earlierComment.FindStringSubmatch(cm); m != nil {
		return atom{kind: aPackage, name: m[1], op: "lt", evr: m[2]}
	}
	if m := suseLessComment.FindStringSubmatch(cm); m != nil {
		return atom{kind: aPackage, name: m[1], op: "lt", evr: m[2]}
	}
	if signedComment.MatchString(cm) {
		return atom{kind: aTrue}
	}
	return atom{kind: aTrue, why: "criterion whose test is missing read as true"}
}

// rpminfo resolves an rpminfo_test: its object names the package, its state
// says what is tested of it.
func (r *resolver) rpminfo(t *test, comments []string) atom {
	o := r.ix.objects[t.object]
	if o == nil {
		for _, cm := range comments {
			if a := r.fromComment(cm); a.kind == aPackage || a.kind == aArch {
				r.stats.note("rpminfo_test with a missing object read from its comment")
				return a
			}
		}
		return atom{kind: aTrue, why: "rpminfo_test with a missing object read as true"}
	}
	if o.varRef {
		return atom{kind: aDrop, why: "rpminfo_object named by a variable"}
	}
	if o.name == "" {
		return atom{kind: aDrop, why: "rpminfo_object without a name"}
	}
	var (
		evr, arch, version, release, keyid opVal
		missingState                       bool
	)
	for _, sref := range t.states {
		s := r.ix.states[sref]
		if s == nil {
			missingState = true
			continue
		}
		// Several states of one test must all hold; the feeds use one.
		if s.evr.Value != "" {
			evr = s.evr
		}
		if s.arch.Value != "" {
			arch = s.arch
		}
		if s.version.Value != "" {
			version = s.version
		}
		if s.release.Value != "" {
			release = s.release
		}
		if s.keyid.Value != "" {
			keyid = s.keyid
		}
	}
	switch {
	case evr.Value != "":
		op, ok := evrOps[evr.Op]
		if !ok {
			return atom{kind: aDrop, why: fmt.Sprintf("evr operation %q", scrub(evr.Op))}
		}
		if release.Value != "" || version.Value != "" {
			// Oracle's ksplice fixes: "openssl is ksplice-based" is a
			// release pattern on the same package. An advisory cannot
			// say "only ksplice builds", and applying the fix version
			// (with a higher epoch) to every build would flag them all.
			return atom{kind: aDrop, why: "version test limited to a release or version pattern"}
		}
		a := atom{kind: aPackage, name: o.name, op: op, evr: evr.Value}
		if arch.Value != "" {
			a.arches = archList(arch)
			if a.arches == nil {
				r.stats.note("arch pattern not a plain list: advisory for every architecture")
			}
		}
		return a
	case release.Value != "" || version.Value != "":
		if strings.HasSuffix(o.name, "-release") || strings.HasSuffix(o.name, "-release-server") {
			// A release package test whose comment names no release this
			// feed knows (SUSE's Workstation Extension, an old product).
			return atom{kind: aDrop, why: "release test of an unmapped product"}
		}
		return atom{kind: aDrop, why: "version or release pattern on a package"}
	case arch.Value != "":
		if arches := archList(arch); arches != nil {
			return atom{kind: aArch, arches: arches}
		}
		return atom{kind: aTrue, why: "arch pattern not a plain list read as true"}
	case keyid.Value != "":
		// "signed with the Oracle Linux 8 key": the index does not keep
		// signatures, and any build of the distribution is signed.
		return atom{kind: aTrue}
	case missingState:
		for _, cm := range comments {
			if a := r.fromComment(cm); a.kind == aPackage {
				r.stats.note("rpminfo_test with a missing state read from its comment")
				return a
			}
		}
		return atom{kind: aTrue, why: "rpminfo_test with a missing state read as true"}
	}
	// No state: "package X is installed" (SUSE live patches are tested
	// against one kernel build this way).
	return atom{kind: aTrue, why: "rpminfo_test without a state read as true"}
}

// evrOps maps OVAL operations to the resolver's.
var evrOps = map[string]string{
	"less than":                  "lt",
	"less than or equal":         "le",
	"greater than":               "gt",
	"greater than or equal":      "ge",
	"equals":                     "eq",
	"case insensitive equals":    "eq",
	"":                           "eq", // OVAL's default operation
	"pattern match":              "",   // not a version bound
	"not equal":                  "",
	"case insensitive not equal": "",
}

func init() {
	for k, v := range evrOps {
		if v == "" {
			delete(evrOps, k)
		}
	}
}

// archList reads an arch entity: a plain name, or a pattern that is an
// alternation of plain names ("(aarch64|ppc64le|s390x|x86_64)", "^x86_64$").
// Anything else returns nil.
func archList(o opVal) []string {
	v := strings.TrimSpace(o.Value)
	if o.Op == "pattern match" {
		v = strings.TrimPrefix(v, "^")
		v = strings.TrimSuffix(v, "$")
		if strings.HasPrefix(v, "(") && strings.HasSuffix(v, ")") {
			v = v[1 : len(v)-1]
		}
	} else if o.Op != "" && o.Op != "equals" {
		return nil
	}
	var out []string
	for _, a := range strings.Split(v, "|") {
		if a == "" || strings.IndexFunc(a, func(r rune) bool {
			return !(r == '_' || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))
		}) >= 0 {
			return nil
		}
		out = append(out, a)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// statement is what one conjunction says about one package.
type statement struct {
	ns, name               string
	intro, fixed, last, eq string
	notAffected            bool
	arches                 []string // nil: every architecture
	sysArches              bool     // arches come from machine architecture tests only
}

func (s *statement) key() string {
	return strings.Join([]string{s.ns, s.name, s.intro, s.fixed, s.last, s.eq, fmt.Sprint(s.notAffected)}, "\x00")
}

// statements resolves a definition's criteria. fileNS is the namespace a
// conjunction without a release test falls back on ("" for none).
func (r *resolver) statements(def *Definition, fileNS string) ([]statement, error) {
	if def.Criteria == nil {
		return nil, nil
	}
	r.atoms = r.atoms[:0]
	r.allSys = r.allSys[:0]
	conjs, err := r.dnf(def.Criteria)
	if err != nil {
		return nil, err
	}
	var out []statement
	byKey := map[string]int{}
	for _, c := range conjs {
		for _, s := range r.conjunction(c, fileNS) {
			k := s.key()
			i, ok := byKey[k]
			if !ok {
				byKey[k] = len(out)
				out = append(out, s)
				continue
			}
			// The same fix on several architectures (Oracle lists each
			// architecture's packages separately): one statement for all
			// of them, for every architecture when one of them is.
			o := &out[i]
			if o.arches == nil || s.arches == nil {
				o.arches = nil
			} else {
				o.arches = append(o.arches, s.arches...)
				sort.Strings(o.arches)
				o.arches = slices.Compact(o.arches)
			}
		}
	}
	out = mergeBounds(out)
	sort.Strings(r.allSys)
	r.allSys = slices.Compact(r.allSys)
	if len(r.allSys) > 1 {
		for i := range out {
			if s := &out[i]; s.sysArches && len(intersect(r.allSys, s.arches)) == len(r.allSys) {
				// Oracle repeats a package under each architecture
				// branch; the same fix under all of them is a fix for
				// every architecture, noarch subpackages included. A
				// definition with one branch keeps its architecture.
				s.arches = nil
			}
		}
	}
	return out, nil
}

// mergeBounds folds statements that differ only in their upper bound: the
// definition's OR of "P < a" and "P < b" holds for every P below the
// greater of the two. Oracle lists a package's Oracle rebuild and Red Hat
// build side by side ("osbuild is earlier than 0:110-1.0.1.el8" OR
// "... 0:110-1.el8"); one advisory with the greater fix says what the
// definition says, where two would report the CVE twice.
func mergeBounds(in []statement) []statement {
	if len(in) < 2 {
		return in
	}
	type k struct{ ns, name, intro, arches string }
	byKey := map[k]int{}
	out := in[:0:0]
	for _, s := range in {
		upper := s.fixed
		if s.last != "" {
			upper = s.last
		}
		if s.notAffected || s.eq != "" || upper == "" || (s.fixed != "" && s.last != "") {
			out = append(out, s)
			continue
		}
		key := k{s.ns, s.name, s.intro, strings.Join(s.arches, ",") + fmt.Sprint(s.arches == nil, s.last != "")}
		i, ok := byKey[key]
		if !ok {
			byKey[key] = len(out)
			out = append(out, s)
			continue
		}
		o := &out[i]
		if s.fixed != "" && greater(s.fixed, o.fixed) {
			o.fixed = s.fixed
		}
		if s.last != "" && greater(s.last, o.last) {
			o.last = s.last
		}
	}
	return out
}

// greater reports whether rpm version a sorts after b; a version rpm cannot
// read never wins.
func greater(a, b string) bool {
	va, err := rpmver.Parse(a)
	if err != nil {
		return false
	}
	vb, err := rpmver.Parse(b)
	if err != nil {
		return true
	}
	return va.Cmp(vb) > 0
}

// conjunction reads one AND of atoms.
func (r *resolver) conjunction(c conj, fileNS string) []statement {
	ns := ""
	var sysArches []string
	type bounds struct {
		s     statement
		order int
	}
	pkgs := map[string]*bounds{}
	for _, i := range c {
		a := &r.atoms[i]
		switch a.kind {
		case aDrop:
			return nil
		case aRelease:
			if ns != "" && ns != a.ns {
				r.stats.note("conjunction naming two releases skipped")
				return nil
			}
			ns = a.ns
		case aArch:
			r.allSys = append(r.allSys, a.arches...)
			if sysArches == nil {
				sysArches = slices.Clone(a.arches)
			} else {
				sysArches = intersect(sysArches, a.arches)
				if len(sysArches) == 0 {
					return nil
				}
			}
		case aPackage:
			b := pkgs[a.name]
			if b == nil {
				b = &bounds{s: statement{name: a.name}, order: len(pkgs)}
				pkgs[a.name] = b
			}
			s := &b.s
			if a.arches != nil {
				if s.arches == nil {
					s.arches = slices.Clone(a.arches)
				} else {
					s.arches = intersect(s.arches, a.arches)
				}
			}
			evr := normEVR(a.evr)
			switch a.op {
			case "none":
				s.notAffected = true
			case "lt":
				s.fixed = evr
			case "le":
				s.last = evr
			case "ge", "gt":
				// "greater than v" is read as "v or later": a range has no
				// open lower bound. It differs only at v itself, which in
				// the feeds is never a real build (Mariner's
				// "0:1.19.0.cm2", a version without a release).
				s.intro = evr
			case "eq":
				s.eq = evr
			}
		}
	}
	if ns == "" {
		ns = fileNS
	}
	if len(pkgs) == 0 {
		return nil
	}
	if ns == "" {
		r.stats.note("package test without a release skipped")
		return nil
	}
	if len(pkgs) > 1 {
		// "A < v AND B < w": each package is reported on its own, which
		// over-reports an image holding only one of them.
		r.stats.note("conjunction over several packages split per package")
	}
	ordered := make([]*bounds, len(pkgs))
	for _, b := range pkgs {
		ordered[b.order] = b
	}
	out := make([]statement, 0, len(pkgs))
	for _, b := range ordered {
		s := b.s
		s.ns = ns
		switch {
		case s.arches != nil && sysArches != nil:
			s.arches = intersect(s.arches, sysArches)
		case sysArches != nil:
			s.arches = slices.Clone(sysArches)
			s.sysArches = true
		}
		if s.arches != nil && len(s.arches) == 0 {
			// Constraints that no architecture meets.
			continue
		}
		out = append(out, s)
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// normEVR drops an explicit zero epoch: rpm reads "0:1.2-3" and "1.2-3" the
// same, and the versions the rpm scanner reports leave it out, so the report
// shows both sides alike.
func normEVR(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "0:"); ok {
		return rest
	}
	return s
}

// scrub keeps a value taken from the document short and printable in a note.
func scrub(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' {
			return '?'
		}
		return r
	}, s)
}
