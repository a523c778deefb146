package decode

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
)

// SparkplugB is an Eclipse Sparkplug B payload (protobuf), shown as an
// outline of its metrics and as a tree.
const SparkplugB Format = "sparkplugb"

type sparkplugFormat struct{}

func (sparkplugFormat) Format() Format { return SparkplugB }
func (sparkplugFormat) Label() string  { return "Sparkplug B" }

// Claims: a Sparkplug topic whose payload decodes. A protobuf content type
// does not claim: protobuf other than Sparkplug has no schema here.
func (sparkplugFormat) Claims(p Payload) bool {
	if !isSparkplugDataTopic(p.Topic) {
		return false
	}
	_, err := sparkplugb.Unmarshal(p.Bytes)
	return err == nil
}

// Looks: never off a Sparkplug topic; protobuf bytes look like anything.
func (sparkplugFormat) Looks(Payload) bool { return false }

func (sparkplugFormat) Decode(p Payload) (View, error) {
	tree, err := sparkplugTree(p.Topic, p.Bytes)
	if err != nil {
		return View{}, err
	}
	return View{Text: renderOutline(tree), Tree: func() *Node { return tree }}, nil
}

// isSparkplugDataTopic: Sparkplug topics carry protobuf, except STATE,
// which carries JSON (Sparkplug 3.0) or text (2.2).
func isSparkplugDataTopic(topic string) bool {
	return sparkplugb.IsTopic(topic) && !strings.HasPrefix(topic, sparkplugb.Namespace+"/"+sparkplugb.STATE+"/")
}

// sparkplugTree decodes a Sparkplug B payload into a tree whose metric
// nodes carry the metric's value (typed by its datatype) and, as children,
// everything else the metric says. A metric's Path is its name (or
// "alias N" when a DATA message leaves the name to the BIRTH), so a chart
// can follow it from message to message.
func sparkplugTree(topic string, payload []byte) (*Node, error) {
	p, err := sparkplugb.Unmarshal(payload)
	if err != nil {
		return nil, err
	}
	b := newBudget()
	b.take()
	root := &Node{Kind: KindObject, Value: sparkplugHeadline(topic, p)}
	add := func(parent *Node, c *Node) bool {
		if !b.take() {
			parent.Truncated = true
			return false
		}
		parent.Children = append(parent.Children, c)
		return true
	}
	if p.Timestamp != nil {
		add(root, timeNode("timestamp", *p.Timestamp))
	}
	if p.Seq != nil {
		add(root, numNode("seq", "", *p.Seq))
	}
	if p.UUID != nil {
		add(root, &Node{Key: "uuid", Kind: KindString, Value: *p.UUID})
	}
	if p.Body != nil {
		add(root, &Node{Key: "body", Kind: KindBytes, Value: hexString(p.Body), Type: countLabel(len(p.Body), "byte", "bytes", false)})
	}
	metrics := &Node{Key: "metrics", Kind: KindArray, Value: countLabel(len(p.Metrics), "metric", "metrics", false)}
	if add(root, metrics) {
		spMetrics(metrics, p.Metrics, "", b)
	}
	return root, nil
}

// sparkplugHeadline is the first line of the view: message type and the
// topic's identities when the topic is a Sparkplug topic.
func sparkplugHeadline(topic string, p *sparkplugb.Payload) string {
	t, ok := sparkplugb.ParseTopic(topic)
	if !ok {
		return "Sparkplug B payload"
	}
	parts := []string{"Sparkplug B " + t.MessageType}
	if t.Group != "" {
		parts = append(parts, "group "+t.Group)
	}
	if t.EdgeNode != "" {
		parts = append(parts, "edge node "+t.EdgeNode)
	}
	if t.Device != "" {
		parts = append(parts, "device "+t.Device)
	}
	if t.HostID != "" {
		parts = append(parts, "host "+t.HostID)
	}
	return strings.Join(parts, " · ")
}

// metricKey names a metric: its name, or "alias N", or "metric I".
func metricKey(m *sparkplugb.Metric, i int) string {
	switch {
	case m.Name != nil && *m.Name != "":
		return *m.Name
	case m.Alias != nil:
		return "alias " + strconv.FormatUint(*m.Alias, 10)
	}
	return "metric " + strconv.Itoa(i)
}

func spMetrics(parent *Node, ms []sparkplugb.Metric, prefix string, b *budget) {
	for i := range ms {
		if !b.take() {
			parent.Truncated = true
			return
		}
		m := &ms[i]
		key := metricKey(m, i)
		path := key
		if prefix != "" {
			path = prefix + "/" + key
		}
		n := &Node{Key: key, Path: path}
		dt := sparkplugb.Unknown
		if m.Datatype != nil {
			dt = *m.Datatype
			n.Type = dt.String()
		}
		parent.Children = append(parent.Children, n)
		if m.IsNull != nil && *m.IsNull {
			n.Kind, n.Value = KindNull, "null"
		} else {
			spValue(n, dt, m.Value, path, b)
		}
		detail := func(c *Node) bool {
			if !b.take() {
				n.Truncated = true
				return false
			}
			n.Children = append(n.Children, c)
			return true
		}
		if m.Name != nil && m.Alias != nil {
			detail(numNode("alias", "", *m.Alias))
		}
		if m.Timestamp != nil {
			detail(timeNode("timestamp", *m.Timestamp))
		}
		for _, f := range []struct {
			name string
			v    *bool
		}{{"is_historical", m.IsHistorical}, {"is_transient", m.IsTransient}} {
			if f.v != nil && *f.v {
				detail(&Node{Key: f.name, Kind: KindBool, Value: "true"})
			}
		}
		if md := m.Metadata; md != nil {
			mn := &Node{Key: "metadata", Kind: KindObject}
			if detail(mn) {
				spMetadata(mn, md)
				mn.Value = countLabel(len(mn.Children), "key", "keys", false)
			}
		}
		if m.Properties != nil {
			pn := &Node{Key: "properties", Kind: KindObject}
			if detail(pn) {
				spProperties(pn, m.Properties, b)
			}
		}
	}
}

func spMetadata(n *Node, md *sparkplugb.MetaData) {
	str := func(k string, v *string) {
		if v != nil {
			n.Children = append(n.Children, &Node{Key: k, Kind: KindString, Value: *v})
		}
	}
	if md.IsMultiPart != nil {
		n.Children = append(n.Children, &Node{Key: "is_multi_part", Kind: KindBool, Value: strconv.FormatBool(*md.IsMultiPart)})
	}
	str("content_type", md.ContentType)
	if md.Size != nil {
		n.Children = append(n.Children, numNode("size", "", *md.Size))
	}
	if md.Seq != nil {
		n.Children = append(n.Children, numNode("seq", "", *md.Seq))
	}
	str("file_name", md.FileName)
	str("file_type", md.FileType)
	str("md5", md.MD5)
	str("description", md.Description)
}

func spProperties(n *Node, ps *sparkplugb.PropertySet, b *budget) {
	n.Value = countLabel(len(ps.Values), "property", "properties", false)
	for i := range ps.Values {
		if !b.take() {
			n.Truncated = true
			return
		}
		key := "[" + strconv.Itoa(i) + "]"
		if i < len(ps.Keys) {
			key = ps.Keys[i]
		}
		pv := &ps.Values[i]
		c := &Node{Key: key}
		dt := sparkplugb.Unknown
		if pv.Type != nil {
			dt = *pv.Type
			c.Type = dt.String()
		}
		n.Children = append(n.Children, c)
		if pv.IsNull != nil && *pv.IsNull {
			c.Kind, c.Value = KindNull, "null"
			continue
		}
		spValue(c, dt, pv.Value, "", b)
	}
}

// spValue fills n with v read as datatype dt; nested messages become
// children. A value that does not fit its datatype is shown raw, with the
// mismatch in Type, rather than hiding the rest of the payload.
func spValue(n *Node, dt sparkplugb.DataType, v sparkplugb.Value, path string, b *budget) {
	typed, err := sparkplugb.Typed(dt, v)
	if err != nil {
		typed, _ = sparkplugb.Typed(sparkplugb.Unknown, v)
		n.Type = strings.TrimSpace(n.Type + " — " + err.Error())
	}
	switch x := typed.(type) {
	case *sparkplugb.DataSet:
		spDataSet(n, x, b)
	case *sparkplugb.Template:
		spTemplate(n, x, path, b)
	case *sparkplugb.PropertySet:
		n.Kind = KindObject
		if x != nil {
			spProperties(n, x, b)
		}
	case *sparkplugb.PropertySetList:
		n.Kind = KindArray
		if x == nil {
			break
		}
		n.Value = countLabel(len(x.PropertySets), "property set", "property sets", false)
		for i := range x.PropertySets {
			if !b.take() {
				n.Truncated = true
				return
			}
			c := &Node{Key: "[" + strconv.Itoa(i) + "]", Kind: KindObject}
			n.Children = append(n.Children, c)
			spProperties(c, &x.PropertySets[i], b)
		}
	case []int64, []uint64, []float32, []float64, []bool, []string, []time.Time:
		spArray(n, x, b)
	case []byte:
		n.Kind, n.Value = KindBytes, hexString(x)
	default:
		scalarNode(n, x)
	}
}

func spArray(n *Node, arr any, b *budget) {
	var items []any
	switch a := arr.(type) {
	case []int64:
		items = toAny(a)
	case []uint64:
		items = toAny(a)
	case []float32:
		items = toAny(a)
	case []float64:
		items = toAny(a)
	case []bool:
		items = toAny(a)
	case []string:
		items = toAny(a)
	case []time.Time:
		items = toAny(a)
	}
	n.Kind = KindArray
	n.Value = countLabel(len(items), "item", "items", false)
	for i, it := range items {
		if !b.take() {
			n.Truncated = true
			return
		}
		c := &Node{Key: "[" + strconv.Itoa(i) + "]"}
		scalarNode(c, it)
		n.Children = append(n.Children, c)
	}
}

func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func spDataSet(n *Node, ds *sparkplugb.DataSet, b *budget) {
	n.Kind = KindArray
	if ds == nil {
		return
	}
	n.Value = fmt.Sprintf("%s × %s", countLabel(len(ds.Columns), "column", "columns", false), countLabel(len(ds.Rows), "row", "rows", false))
	for r := range ds.Rows {
		if !b.take() {
			n.Truncated = true
			return
		}
		row := &Node{Key: "[" + strconv.Itoa(r) + "]", Kind: KindObject}
		n.Children = append(n.Children, row)
		for c, el := range ds.Rows[r].Elements {
			if !b.take() {
				row.Truncated = true
				return
			}
			key := "[" + strconv.Itoa(c) + "]"
			if c < len(ds.Columns) {
				key = ds.Columns[c]
			}
			dt := sparkplugb.Unknown
			cell := &Node{Key: key}
			if c < len(ds.Types) {
				dt = ds.Types[c]
				cell.Type = dt.String()
			}
			row.Children = append(row.Children, cell)
			spValue(cell, dt, el, "", b)
		}
		row.Value = countLabel(len(row.Children), "column", "columns", false)
	}
}

func spTemplate(n *Node, t *sparkplugb.Template, path string, b *budget) {
	n.Kind = KindObject
	if t == nil {
		return
	}
	var what []string
	if t.IsDefinition != nil && *t.IsDefinition {
		what = append(what, "definition")
	} else if t.TemplateRef != nil {
		what = append(what, "instance of "+*t.TemplateRef)
	}
	if t.Version != nil {
		what = append(what, "version "+*t.Version)
	}
	what = append(what, countLabel(len(t.Metrics), "member", "members", false))
	n.Value = strings.Join(what, ", ")
	spMetrics(n, t.Metrics, path, b)
	for i := range t.Parameters {
		if !b.take() {
			n.Truncated = true
			return
		}
		p := &t.Parameters[i]
		key := "parameter " + strconv.Itoa(i)
		if p.Name != nil {
			key = "parameter " + *p.Name
		}
		c := &Node{Key: key}
		dt := sparkplugb.Unknown
		if p.Type != nil {
			dt = *p.Type
			c.Type = dt.String()
		}
		n.Children = append(n.Children, c)
		spValue(c, dt, p.Value, "", b)
	}
}

func timeNode(key string, ms uint64) *Node {
	return &Node{Key: key, Kind: KindTime, Value: sparkplugb.Time(ms).Format("2006-01-02T15:04:05.000Z07:00"),
		Type: strconv.FormatUint(ms, 10) + " ms"}
}

func numNode(key, path string, v uint64) *Node {
	return &Node{Key: key, Path: path, Kind: KindNumber, Value: strconv.FormatUint(v, 10), num: float64(v), hasNum: path != ""}
}
