package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseError is one problem in a users file. Line is 1-based, 0 if unknown.
// Parse returns a *ParseError, or several joined with errors.Join.
type ParseError struct {
	File string
	Line int
	Msg  string
	Err  error // underlying YAML error, if any
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// maxParseErrors caps how many problems one Parse reports.
const maxParseErrors = 20

type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxParseErrors {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses the content of a users file; name (usually the file's base
// name) is used in error messages. Every problem found is reported with its
// line number.
func Parse(name string, data []byte) (*Users, error) {
	p := &parser{file: name}
	u := &Users{header: leadingComment(data)}

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case err == io.EOF:
		return u, nil // empty file: no users
	case err != nil:
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, syntaxError(name, err)
		}
		return nil, &ParseError{File: name, Line: extra.Line, Msg: "a second YAML document (after ---) is not allowed; keep everything in one document"}
	}

	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	switch {
	case isNull(root):
		return u, nil
	case root.Kind != yaml.MappingNode:
		p.errorf(root, "expected a mapping with the keys anonymous, anonymous_acl and users, found %s", describe(root))
		return nil, errors.Join(p.errs...)
	}

	p.mapping(root, "at the top level", []string{"anonymous", "anonymous_acl", "users"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "anonymous":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				p.errorf(v, "anonymous must be true or false, not %s", describe(v))
				return
			}
			if err := v.Decode(&u.Anonymous); err != nil {
				p.errorf(v, "anonymous must be true or false, not %s", describe(v))
			}
		case "anonymous_acl":
			u.AnonymousACL = p.acl(v)
		case "users":
			p.users(u, v)
		}
	})
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return u, nil
}

func (p *parser) users(u *Users, v *yaml.Node) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "users must be a list of entries starting with \"- name: ...\", found %s", describe(v))
		return
	}
	firstLine := map[string]int{}
	for _, item := range v.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "each entry under users must be a mapping with name, password_hash and optional acl, found %s", describe(item))
			continue
		}
		var usr User
		var hasName, hasHash bool
		p.mapping(item, "in a user entry", []string{"name", "password_hash", "acl"}, func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				s, ok := p.scalar(v, "name")
				if !ok {
					return
				}
				hasName = true
				usr.Name = s
				if prob := nameProblem(s); prob != "" {
					p.errorf(v, "%s", prob)
					return
				}
				if l, dup := firstLine[s]; dup {
					p.errorf(v, "user %q is defined twice (first at line %d); remove or rename one", s, l)
					return
				}
				firstLine[s] = v.Line
			case "password_hash":
				if s, ok := p.scalar(v, "password_hash"); ok {
					hasHash = s != ""
					usr.PasswordHash = s
				}
			case "acl":
				usr.ACL = p.acl(v)
			}
		})
		if !hasName {
			p.errorf(item, "user entry has no name; add \"name: NAME\"")
			continue
		}
		if nameProblem(usr.Name) != "" {
			continue
		}
		if !hasHash {
			p.errorf(item, "user %q has no password_hash; set one with: %s", usr.Name, addCommand(usr.Name))
		} else if prob := hashProblem(usr.Name, usr.PasswordHash); prob != "" {
			p.errorf(field(item, "password_hash"), "%s", prob)
		}
		u.List = append(u.List, usr)
	}
}

func (p *parser) acl(v *yaml.Node) []Rule {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "acl must be a list of rules like {filter: \"a/#\", access: read}, found %s", describe(v))
		return nil
	}
	rules := make([]Rule, 0, len(v.Content))
	for _, item := range v.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "each acl rule must be a mapping like {filter: \"a/#\", access: read}, found %s", describe(item))
			continue
		}
		var r Rule
		var hasFilter, hasAccess, bad bool
		p.mapping(item, "in an acl rule", []string{"filter", "access"}, func(key string, k, v *yaml.Node) {
			switch key {
			case "filter":
				hasFilter = true
				if isNull(v) {
					r.Filter = ""
				} else if s, ok := p.scalar(v, "filter"); ok {
					r.Filter = s
				} else {
					bad = true
					return
				}
				if prob := filterProblem(r.Filter); prob != "" {
					p.errorf(v, "%s", prob)
					bad = true
				}
			case "access":
				hasAccess = true
				s, ok := p.scalar(v, "access")
				if !ok {
					bad = true
					return
				}
				a, err := ParseAccess(s)
				if err != nil {
					p.errorf(v, "%v", err)
					bad = true
				}
				r.Access = a
			}
		})
		if !hasFilter {
			p.errorf(item, "acl rule has no filter; add filter: \"TOPIC/FILTER\"")
			bad = true
		}
		if !hasAccess {
			p.errorf(item, "acl rule has no access; add access: read, write, readwrite or deny")
			bad = true
		}
		if !bad {
			rules = append(rules, r)
		}
	}
	return rules
}

// mapping walks the key/value pairs of m, reporting non-scalar, duplicate
// and unknown keys; fn is called for each known key.
func (p *parser) mapping(m *yaml.Node, where string, known []string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "keys must be plain words, found %s", describe(k))
			continue
		}
		if l, dup := seen[k.Value]; dup {
			p.errorf(k, "key %q appears twice %s (first at line %d); keep one", k.Value, where, l)
			continue
		}
		seen[k.Value] = k.Line
		isKnown := false
		for _, name := range known {
			isKnown = isKnown || k.Value == name
		}
		if !isKnown {
			p.errorf(k, "unknown key %q %s; expected %s", k.Value, where, orList(known))
			continue
		}
		fn(k.Value, k, v)
	}
}

// scalar returns the string value of a scalar node; null is "".
func (p *parser) scalar(v *yaml.Node, what string) (string, bool) {
	if isNull(v) {
		return "", true
	}
	if v.Kind != yaml.ScalarNode {
		p.errorf(v, "%s must be a single value, found %s", what, describe(v))
		return "", false
	}
	return v.Value, true
}

func field(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return m
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func orList(words []string) string {
	switch len(words) {
	case 1:
		return words[0]
	case 2:
		return words[0] + " or " + words[1]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 reports the line of the enclosing construct for some
		// errors, so the problem can be a line or two further down.
		return &ParseError{File: file, Line: line, Msg: "invalid YAML (at or after this line): " + m[2], Err: err}
	}
	return &ParseError{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: "), Err: err}
}

// leadingComment returns the comment block at the top of data (up to the
// first line that is neither a comment nor blank), without trailing blanks.
func leadingComment(data []byte) string {
	var lines []string
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		t := strings.TrimRight(string(line), " \t\r")
		if t != "" && !strings.HasPrefix(t, "#") {
			break
		}
		lines = append(lines, t)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	return strings.Join(lines, "\n")
}

// marshal renders u in the users-file format.
func (u *Users) marshal() ([]byte, error) {
	str := func(s string, style yaml.Style) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: style}
	}
	anonKey := str("anonymous", 0)
	anonKey.LineComment = "allow clients without a user name (only honoured when every listener is on loopback)"
	aclNode := func(rules []Rule) *yaml.Node {
		acl := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range rules {
			acl.Content = append(acl.Content, &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
				str("filter", 0), str(r.Filter, yaml.DoubleQuotedStyle),
				str("access", 0), str(r.Access.String(), 0),
			}})
		}
		return acl
	}
	users := &yaml.Node{Kind: yaml.SequenceNode}
	for _, usr := range u.List {
		m := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			str("name", 0), str(usr.Name, 0),
			str("password_hash", 0), str(usr.PasswordHash, yaml.DoubleQuotedStyle),
		}}
		if len(usr.ACL) > 0 {
			m.Content = append(m.Content, str("acl", 0), aclNode(usr.ACL))
		}
		users.Content = append(users.Content, m)
	}
	if len(users.Content) == 0 {
		users.Style = yaml.FlowStyle // "users: []"
	}
	header := u.header
	if header == "" {
		header = DefaultHeader
	}
	top := []*yaml.Node{anonKey, {Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(u.Anonymous)}}
	if len(u.AnonymousACL) > 0 {
		top = append(top, str("anonymous_acl", 0), aclNode(u.AnonymousACL))
	}
	top = append(top, str("users", 0), users)
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: top}}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding users file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding users file: %w", err)
	}
	return append(bytes.TrimRight(buf.Bytes(), "\n"), '\n'), nil
}
