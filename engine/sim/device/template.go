package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// tmpl is a compiled text/template. Most topics have no action at all, so
// a literal is kept as such and never executed: with thousands of devices
// sending every second, that is most of the rendering work saved.
type tmpl struct {
	literal string
	t       *template.Template
	// fixed: the output depends only on what a device never changes (its
	// ID, index, fleet and variables), so a device renders it once.
	fixed bool
}

// changing are the template names whose values change over a device's life.
var changing = []string{".State", ".Fields", ".Seq", ".Now", ".Command", ".Topic"}

// tdata is what every template of a profile sees. Fields that do not
// apply to a template stay zero (.Command outside a handler).
type tdata struct {
	ID      string
	Index   int
	Fleet   string
	Profile string
	Vars    map[string]any
	State   map[string]any
	Fields  map[string]any
	Seq     uint64
	Now     time.Time
	Command any    // a handler's command payload: decoded JSON, else the text
	Topic   string // a handler's command topic
}

var funcs = template.FuncMap{
	// json writes a value as JSON, so a template can put a string or an
	// object into a JSON payload with the right quoting.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// parseTemplate compiles text; what names the template in errors ("topic").
func parseTemplate(what, text string) (*tmpl, error) {
	if !strings.Contains(text, "{{") {
		return &tmpl{literal: text}, nil
	}
	t, err := template.New(what).Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s template %q does not parse: %s", what, text, strings.TrimPrefix(err.Error(), "template: "))
	}
	fixed := true
	for _, n := range changing {
		if strings.Contains(text, n) {
			fixed = false
		}
	}
	return &tmpl{t: t, fixed: fixed}, nil
}

// render executes t on d; a nil t renders as "".
func (t *tmpl) render(d *tdata) (string, error) {
	if t == nil {
		return "", nil
	}
	if t.t == nil {
		return t.literal, nil
	}
	var b strings.Builder
	if err := t.t.Execute(&b, d); err != nil {
		return "", templateError(err)
	}
	return b.String(), nil
}

// templateError words text/template's "can't evaluate field Nope in type
// *device.tdata", which names our internals, as what a file can use.
func templateError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	if _, field, ok := strings.Cut(msg, "can't evaluate field "); ok {
		if name, _, ok := strings.Cut(field, " in type *device.tdata"); ok {
			return fmt.Errorf("unknown name .%s; templates know .ID .Index .Fleet .Profile .Vars .State .Fields .Seq .Now, and .Command .Topic in handlers", name)
		}
	}
	return errors.New(msg)
}
