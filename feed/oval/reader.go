package oval

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// An OVAL definitions document lists its definitions first and the tests,
// objects and states they refer to afterwards. A streaming reader therefore
// reads the document twice: the first pass keeps a compact index of the
// tests, objects and states (a few strings each, shared between
// definitions), the second decodes one definition at a time, resolves its
// criteria against the index and hands it on. Memory holds the index and one
// definition, never the document.

// opVal is one state entity: <evr operation="less than">0:1.2-3</evr>.
type opVal struct {
	Op    string `xml:"operation,attr"`
	Value string `xml:",chardata"`
}

func (o *opVal) val() string {
	if o == nil {
		return ""
	}
	return strings.TrimSpace(o.Value)
}

func (o *opVal) op() string {
	if o == nil {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(o.Op))
}

// xTest is any *_test element; only rpminfo_test, uname_test,
// textfilecontent54_test and family_test mean something here.
type xTest struct {
	XMLName        xml.Name
	ID             string `xml:"id,attr"`
	Comment        string `xml:"comment,attr"`
	CheckExistence string `xml:"check_existence,attr"`
	Object         struct {
		Ref string `xml:"object_ref,attr"`
	} `xml:"object"`
	States []struct {
		Ref string `xml:"state_ref,attr"`
	} `xml:"state"`
}

// xObject is any *_object element; rpminfo_object names a package.
type xObject struct {
	XMLName xml.Name
	ID      string `xml:"id,attr"`
	Name    *struct {
		VarRef string `xml:"var_ref,attr"`
		Value  string `xml:",chardata"`
	} `xml:"name"`
}

// xState is any *_state element with the entities the feeds use.
type xState struct {
	XMLName       xml.Name
	ID            string `xml:"id,attr"`
	EVR           *opVal `xml:"evr"`
	Arch          *opVal `xml:"arch"`
	Version       *opVal `xml:"version"`
	Release       *opVal `xml:"release"`
	SignatureKey  *opVal `xml:"signature_keyid"`
	ProcessorType *opVal `xml:"processor_type"`
}

// test, object and state are what the index keeps.
type test struct {
	kind           string // element name without namespace: "rpminfo_test"
	comment        string
	checkExistence string
	object         string
	states         []string
}

type object struct {
	kind   string
	name   string
	varRef bool // the name comes from a variable, which this reader does not evaluate
}

type state struct {
	kind                                          string
	evr, arch, version, release, keyid, processor opVal
}

// index holds the tests, objects and states of one document by id.
type index struct {
	tests   map[string]*test
	objects map[string]*object
	states  map[string]*state
	kinds   map[string]string // interned element names
}

func newIndex() *index {
	return &index{
		tests:   map[string]*test{},
		objects: map[string]*object{},
		states:  map[string]*state{},
		kinds:   map[string]string{},
	}
}

func (ix *index) intern(s string) string {
	if v, ok := ix.kinds[s]; ok {
		return v
	}
	// Element names come from the document: bound the table so a hostile
	// one cannot grow it without limit (a few dozen kinds exist).
	if len(ix.kinds) < 256 {
		ix.kinds[s] = s
	}
	return s
}

func ov(o *opVal) opVal {
	if o == nil {
		return opVal{}
	}
	return opVal{Op: o.op(), Value: o.val()}
}

// xmlDecoder returns a decoder that accepts what real feeds declare: Oracle
// and SUSE files say encoding="UTF-8", a few older ones ISO-8859-1, which
// is read as Latin-1 (the only non-UTF-8 charset seen in OVAL files).
func xmlDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.Strict = true
	d.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		case "iso-8859-1", "latin1", "latin-1":
			return &latin1Reader{r: in}, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	return d
}

// latin1Reader turns ISO-8859-1 into UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 4096)
		}
		n, err := l.r.Read(l.buf[:cap(l.buf)])
		for _, b := range l.buf[:n] {
			if b < 0x80 {
				l.out = append(l.out, b)
			} else {
				l.out = append(l.out, 0xc0|b>>6, 0x80|b&0x3f)
			}
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// readIndex is the first pass: it decodes every test, object and state and
// skips the definitions.
func readIndex(ctx context.Context, r io.Reader) (*index, error) {
	ix := newIndex()
	d := xmlDecoder(r)
	seenRoot := false
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line(d), err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		name := se.Name.Local
		if !seenRoot {
			if name != "oval_definitions" {
				return nil, fmt.Errorf("root element is <%s>, want <oval_definitions>", name)
			}
			seenRoot = true
			continue
		}
		switch {
		case name == "definitions" || name == "generator" || name == "variables":
			if err := d.Skip(); err != nil {
				return nil, fmt.Errorf("line %d: <%s>: %w", line(d), name, err)
			}
		case strings.HasSuffix(name, "_test"):
			var t xTest
			if err := d.DecodeElement(&t, &se); err != nil {
				return nil, fmt.Errorf("line %d: <%s>: %w", line(d), name, err)
			}
			if t.ID == "" {
				return nil, fmt.Errorf("line %d: <%s> without id", line(d), name)
			}
			e := &test{kind: ix.intern(name), comment: strings.TrimSpace(t.Comment), checkExistence: t.CheckExistence, object: t.Object.Ref}
			for _, s := range t.States {
				e.states = append(e.states, s.Ref)
			}
			ix.tests[t.ID] = e
		case strings.HasSuffix(name, "_object"):
			var o xObject
			if err := d.DecodeElement(&o, &se); err != nil {
				return nil, fmt.Errorf("line %d: <%s>: %w", line(d), name, err)
			}
			if o.ID == "" {
				return nil, fmt.Errorf("line %d: <%s> without id", line(d), name)
			}
			e := &object{kind: ix.intern(name)}
			if o.Name != nil {
				e.name = strings.TrimSpace(o.Name.Value)
				e.varRef = o.Name.VarRef != "" && e.name == ""
			}
			ix.objects[o.ID] = e
		case strings.HasSuffix(name, "_state"):
			var s xState
			if err := d.DecodeElement(&s, &se); err != nil {
				return nil, fmt.Errorf("line %d: <%s>: %w", line(d), name, err)
			}
			if s.ID == "" {
				return nil, fmt.Errorf("line %d: <%s> without id", line(d), name)
			}
			ix.states[s.ID] = &state{
				kind: ix.intern(name),
				evr:  ov(s.EVR), arch: ov(s.Arch), version: ov(s.Version), release: ov(s.Release),
				keyid: ov(s.SignatureKey), processor: ov(s.ProcessorType),
			}
		}
	}
	if !seenRoot {
		return nil, errors.New("no <oval_definitions> element")
	}
	return ix, nil
}

func line(d *xml.Decoder) int {
	l, _ := d.InputPos()
	return l
}

// Definition is one decoded <definition>.
type Definition struct {
	ID       string    `xml:"id,attr"`
	Class    string    `xml:"class,attr"`
	Metadata Metadata  `xml:"metadata"`
	Criteria *Criteria `xml:"criteria"`
}

// Metadata is what the feeds read of a definition's <metadata>: the common
// OVAL fields and the vendor additions (Oracle's and Photon's <advisory>,
// Microsoft's <patchable>, <severity> and <advisory_date>).
type Metadata struct {
	Title       string      `xml:"title"`
	Platforms   []string    `xml:"affected>platform"`
	References  []Reference `xml:"reference"`
	Description string      `xml:"description"`
	// Severity, Patchable and AdvisoryDate are Microsoft's (Mariner, Azure Linux).
	Severity     string `xml:"severity"`
	Patchable    string `xml:"patchable"`
	AdvisoryDate string `xml:"advisory_date"`
	Advisory     struct {
		Severity string `xml:"severity"`
		Issued   struct {
			Date string `xml:"date,attr"`
		} `xml:"issued"`
		CVEs []struct {
			ID   string `xml:",chardata"`
			Href string `xml:"href,attr"`
		} `xml:"cve"`
	} `xml:"advisory"`
}

// Reference is a <reference>.
type Reference struct {
	Source string `xml:"source,attr"`
	RefID  string `xml:"ref_id,attr"`
	RefURL string `xml:"ref_url,attr"`
}

// Criteria is a <criteria> node: its operator applies to the child criteria
// and criterions alike (their order does not matter for AND and OR).
type Criteria struct {
	Operator  string      `xml:"operator,attr"`
	Negate    string      `xml:"negate,attr"`
	Criteria  []Criteria  `xml:"criteria"`
	Criterion []Criterion `xml:"criterion"`
	Extend    []struct {
		Ref string `xml:"definition_ref,attr"`
	} `xml:"extend_definition"`
}

// Criterion is a <criterion>: a test reference.
type Criterion struct {
	TestRef string `xml:"test_ref,attr"`
	Comment string `xml:"comment,attr"`
	Negate  string `xml:"negate,attr"`
}

// readDefinitions is the second pass: it decodes one definition at a time.
func readDefinitions(ctx context.Context, r io.Reader, fn func(*Definition) error) error {
	d := xmlDecoder(r)
	depth := 0
	inDefs := false
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line(d), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 2 && t.Name.Local == "definitions":
				inDefs = true
			case depth == 2:
				// Tests, objects and states were read by the first pass.
				if err := d.Skip(); err != nil {
					return fmt.Errorf("line %d: <%s>: %w", line(d), t.Name.Local, err)
				}
				depth--
			case inDefs && depth == 3 && t.Name.Local == "definition":
				var def Definition
				start := line(d)
				if err := d.DecodeElement(&def, &t); err != nil {
					return fmt.Errorf("line %d: <definition>: %w", start, err)
				}
				depth--
				if err := fn(&def); err != nil {
					return err
				}
			}
		case xml.EndElement:
			depth--
			if depth == 1 {
				inDefs = false
			}
		}
	}
}
