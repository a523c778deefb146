package translations

import (
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
)

// fallbacks are the English texts of lang.X's keys, for -update.
var fallbacks = map[string]string{}

// reserved are the keys go-i18n reads as a message's own fields: a
// catalogue with one of them as a key fails to load as a whole.
var reserved = map[string]bool{"id": true, "description": true, "hash": true, "leftdelim": true, "rightdelim": true,
	"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true}

var update = flag.Bool("update", false, "add the keys the code uses to json/en.json")

// entry is one message: a plain string, or plural forms by CLDR category.
type entry struct {
	plain  string
	plural map[string]string
}

func (e *entry) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.plain); err == nil {
		return nil
	}
	return json.Unmarshal(b, &e.plural)
}

func (e entry) MarshalJSON() ([]byte, error) {
	if e.plural != nil {
		return json.Marshal(e.plural)
	}
	return json.Marshal(e.plain)
}

// forms are the texts of e, each a translation to check.
func (e entry) forms() map[string]string {
	if e.plural != nil {
		return e.plural
	}
	return map[string]string{"other": e.plain}
}

func readCatalogue(t *testing.T, name string) map[string]entry {
	t.Helper()
	data, err := files.ReadFile("json/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]entry
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s is not valid: %v", name, err)
	}
	return c
}

// usedKeys scans the window's source (ui/, tests left out) for the
// strings it translates: lang.L and lang.N of a constant (a literal, a
// sum of literals, a package's constant or an element of its constant
// table) and numfmt.Plural's words. It returns each key with its English
// plural forms, nil for a plain string.
func usedKeys(t *testing.T) map[string]map[string]string {
	t.Helper()
	byDir := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]map[string]string{}
	for k := range fallbacks {
		delete(fallbacks, k)
	}
	for _, pkg := range byDir {
		globals := map[string]ast.Expr{}
		for _, f := range pkg {
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok {
					for _, s := range g.Specs {
						if v, ok := s.(*ast.ValueSpec); ok {
							for i, n := range v.Names {
								if i < len(v.Values) {
									globals[n.Name] = v.Values[i]
								}
							}
						}
					}
				}
			}
		}
		for _, f := range pkg {
			ast.Inspect(f, func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok || len(c.Args) == 0 {
					return true
				}
				sel, ok := c.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, _ := sel.X.(*ast.Ident)
				switch {
				case x != nil && x.Name == "lang" && (sel.Sel.Name == "L" || sel.Sel.Name == "N"):
					for _, k := range constStrings(c.Args[0], globals) {
						if reserved[strings.ToLower(k)] {
							continue // goes by lang.X; TestNoReservedKeys
						}
						if _, ok := keys[k]; !ok {
							keys[k] = nil
						}
					}
				case x != nil && x.Name == "lang" && sel.Sel.Name == "X" && len(c.Args) >= 2:
					k, fb := constStrings(c.Args[0], globals), constStrings(c.Args[1], globals)
					if len(k) == 1 {
						keys[k[0]] = nil
						if len(fb) == 1 {
							fallbacks[k[0]] = fb[0]
						}
					}
				case x != nil && x.Name == "numfmt" && sel.Sel.Name == "Plural" && len(c.Args) == 3:
					one, ok1 := constStrings(c.Args[1], globals), true
					many := constStrings(c.Args[2], globals)
					if !ok1 || len(one) != 1 || len(many) != 1 {
						t.Errorf("%s: numfmt.Plural's words are not literals", fset.Position(c.Pos()))
						return true
					}
					keys["{{.Count}} "+many[0]] = map[string]string{"one": "{{.Count}} " + one[0], "other": "{{.Count}} " + many[0]}
				}
				return true
			})
		}
	}
	return keys
}

// constStrings evaluates e to the strings it can be: none when it is not
// a constant of the package (a variable's text is checked where it is
// made).
func constStrings(e ast.Expr, globals map[string]ast.Expr) []string {
	switch v := e.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(v.Value); err == nil && v.Kind == token.STRING {
			return []string{s}
		}
	case *ast.ParenExpr:
		return constStrings(v.X, globals)
	case *ast.BinaryExpr:
		l, r := constStrings(v.X, globals), constStrings(v.Y, globals)
		if v.Op == token.ADD && len(l) == 1 && len(r) == 1 {
			return []string{l[0] + r[0]}
		}
	case *ast.Ident:
		if g, ok := globals[v.Name]; ok {
			return constStrings(g, globals)
		}
	case *ast.IndexExpr:
		if id, ok := v.X.(*ast.Ident); ok {
			if cl, ok := globals[id.Name].(*ast.CompositeLit); ok {
				var out []string
				for _, el := range cl.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						el = kv.Value
					}
					for _, s := range constStrings(el, globals) {
						if s != "" {
							out = append(out, s)
						}
					}
				}
				return out
			}
		}
	}
	return nil
}

// placeholders are a text's printf verbs and template fields, in order.
var placeholderRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]|\{\{\s*\.\w+\s*\}\}`)

func placeholders(s string) []string {
	ps := placeholderRE.FindAllString(s, -1)
	for i, p := range ps {
		ps[i] = regexp.MustCompile(`\[\d+\]`).ReplaceAllString(p, "")
	}
	return ps
}

// samePlaceholders compares in order, or as a set when the translation
// numbers its verbs (%[2]s) to reorder them.
func samePlaceholders(en, tr string) bool {
	a, b := placeholders(en), placeholders(tr)
	if strings.Contains(tr, "%[") {
		slices.Sort(a)
		slices.Sort(b)
	}
	return slices.Equal(a, b)
}

func TestEveryUsedKeyIsInEnglish(t *testing.T) {
	used := usedKeys(t)
	en := readCatalogue(t, "en.json")
	if *update {
		for k, forms := range used {
			if _, ok := en[k]; !ok {
				en[k] = entry{plain: k, plural: forms}
				if fb, ok := fallbacks[k]; ok {
					en[k] = entry{plain: fb}
				}
			}
		}
		data, err := json.MarshalIndent(en, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("json/en.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	var missing []string
	for k := range used {
		if _, ok := en[k]; !ok {
			missing = append(missing, strconv.Quote(k))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d strings the window translates are not in en.json (go test -run TestEveryUsedKeyIsInEnglish -update adds them):\n%s",
			len(missing), strings.Join(missing, "\n"))
	}
	if len(used) < 300 {
		t.Errorf("the scan found only %d translated strings: is it still reading ui/?", len(used))
	}
}

// spaceByDesign are keys whose translation may be only a space: Russian
// groups thousands with a no-break space.
var spaceByDesign = map[string]bool{"number.group": true}

func TestTranslationsCoverEnglish(t *testing.T) {
	en := readCatalogue(t, "en.json")
	for _, name := range []string{"ru.json", "zh-CN.json"} {
		t.Run(name, func(t *testing.T) {
			tr := readCatalogue(t, name)
			for k, e := range en {
				te, ok := tr[k]
				if !ok {
					t.Errorf("missing %q", k)
					continue
				}
				want := e.forms()["other"]
				for form, text := range te.forms() {
					if text == "" || strings.TrimSpace(text) == "" && !spaceByDesign[k] {
						t.Errorf("%q: the %s form is empty", k, form)
					}
					if !samePlaceholders(want, text) {
						t.Errorf("%q: the %s form %q has placeholders %v, English has %v", k, form, text, placeholders(text), placeholders(want))
					}
				}
				if e.plural != nil && te.plural == nil {
					t.Errorf("%q is a plural in English but not in %s", k, name)
				}
			}
			for k := range tr {
				if _, ok := en[k]; !ok {
					t.Errorf("%q is not in en.json: the code no longer uses it", k)
				}
			}
		})
	}
}

func TestNoReservedKeys(t *testing.T) {
	for k := range usedKeys(t) {
		if reserved[strings.ToLower(k)] {
			t.Errorf("%q is a reserved key in go-i18n files: translate it with lang.X and another key", k)
		}
	}
}

// The language switch as the next start makes it: each catalogue loads
// and the window's strings come out in the chosen language, plurals in
// its forms.
func TestRegisterChoosesTheLanguage(t *testing.T) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "en_US.UTF-8")
	tests := []struct {
		choice         Choice
		settings, recs string
	}{
		{Russian, "Настройки", "{{.Count}} записи"},
		{Chinese, "设置", "{{.Count}} 条记录"},
		{English, "Settings", "{{.Count}} records"},
	}
	for _, tc := range tests {
		if err := Register(tc.choice); err != nil {
			t.Fatalf("Register(%s): %v", tc.choice, err)
		}
		if got := lang.L("Settings"); got != tc.settings {
			t.Errorf("in %s, Settings reads %q, want %q", tc.choice, got, tc.settings)
		}
		want := strings.ReplaceAll(tc.recs, "{{.Count}}", "3")
		if got := lang.N("{{.Count}} records", 3, map[string]any{"Count": 3}); got != want {
			t.Errorf("in %s, 3 records read %q, want %q", tc.choice, got, want)
		}
		if got := lang.X("devices.column.id", "ID"); got == "" {
			t.Errorf("in %s, the devices' ID column has no heading", tc.choice)
		}
	}
	// Back to the OS's choice, English here, for the other tests.
	t.Setenv("LANGUAGE", "")
	if err := Register(System); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("Settings"); got != "Settings" {
		t.Errorf("with the system's language (en_US) Settings reads %q", got)
	}
}

func TestNoStaleKeys(t *testing.T) {
	used := usedKeys(t)
	for k := range readCatalogue(t, "en.json") {
		if _, ok := used[k]; !ok {
			t.Errorf("en.json has %q, which the window no longer translates: delete it from every catalogue", k)
		}
	}
}
