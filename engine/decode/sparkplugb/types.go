package sparkplugb

import "strconv"

// DataType is a Sparkplug B metric, property or dataset column datatype
// (Sparkplug 3.0, section 6.4.16).
type DataType uint32

// The datatypes of the Sparkplug 3.0 specification. The array types travel
// in bytes_value as little-endian packed values.
const (
	Unknown             DataType = 0
	Int8                DataType = 1
	Int16               DataType = 2
	Int32               DataType = 3
	Int64               DataType = 4
	UInt8               DataType = 5
	UInt16              DataType = 6
	UInt32              DataType = 7
	UInt64              DataType = 8
	Float               DataType = 9
	Double              DataType = 10
	Boolean             DataType = 11
	String              DataType = 12
	DateTime            DataType = 13
	Text                DataType = 14
	UUID                DataType = 15
	DataSetType         DataType = 16
	Bytes               DataType = 17
	File                DataType = 18
	TemplateType        DataType = 19
	PropertySetType     DataType = 20
	PropertySetListType DataType = 21
	Int8Array           DataType = 22
	Int16Array          DataType = 23
	Int32Array          DataType = 24
	Int64Array          DataType = 25
	UInt8Array          DataType = 26
	UInt16Array         DataType = 27
	UInt32Array         DataType = 28
	UInt64Array         DataType = 29
	FloatArray          DataType = 30
	DoubleArray         DataType = 31
	BooleanArray        DataType = 32
	StringArray         DataType = 33
	DateTimeArray       DataType = 34
)

var dataTypeNames = [...]string{
	"Unknown", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
	"Float", "Double", "Boolean", "String", "DateTime", "Text", "UUID", "DataSet", "Bytes",
	"File", "Template", "PropertySet", "PropertySetList", "Int8Array", "Int16Array",
	"Int32Array", "Int64Array", "UInt8Array", "UInt16Array", "UInt32Array", "UInt64Array",
	"FloatArray", "DoubleArray", "BooleanArray", "StringArray", "DateTimeArray",
}

// String returns the specification's name of t, or "DataType(N)" for a
// number the specification does not define.
func (t DataType) String() string {
	if int(t) < len(dataTypeNames) {
		return dataTypeNames[t]
	}
	return "DataType(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Payload is one Sparkplug B message body. Pointer fields are nil when the
// field was absent, which Sparkplug gives a meaning (an NDATA without seq is
// malformed, a metric without name relies on its alias).
type Payload struct {
	Timestamp *uint64 // ms since the Unix epoch, UTC, at sending time
	Metrics   []Metric
	Seq       *uint64
	UUID      *string
	Body      []byte // nil when absent
}

// Metric is one metric of a payload or template.
type Metric struct {
	Name         *string
	Alias        *uint64
	Timestamp    *uint64 // ms since the Unix epoch, UTC, at acquisition
	Datatype     *DataType
	IsHistorical *bool
	IsTransient  *bool
	IsNull       *bool
	Metadata     *MetaData
	Properties   *PropertySet
	Value        Value
}

// ValueKind says which member of a protobuf "oneof value" was set.
type ValueKind uint8

// The members of the value oneofs of Metric, PropertyValue, DataSetValue
// and Template.Parameter; each message allows only some of them.
const (
	NoValue ValueKind = iota
	IntValue
	LongValue
	FloatValue
	DoubleValue
	BoolValue
	StringValue
	BytesValue           // Metric only
	DataSetValue         // Metric only
	TemplateValue        // Metric only
	PropertySetValue     // PropertyValue only
	PropertySetListValue // PropertyValue only
	ExtensionValue       // any; Raw holds the extension message's bytes
)

var valueKindNames = [...]string{
	"none", "int_value", "long_value", "float_value", "double_value", "boolean_value",
	"string_value", "bytes_value", "dataset_value", "template_value", "propertyset_value",
	"propertysets_value", "extension_value",
}

// String returns the protobuf field name of k ("int_value", ...).
func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) {
		return valueKindNames[k]
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// Value is the oneof value of a Metric, PropertyValue, DataSetValue or
// Template.Parameter: Kind says which field below holds it.
type Value struct {
	Kind         ValueKind
	Int          uint32 // IntValue: Int8..Int32 as two's complement, UInt8..UInt32
	Long         uint64 // LongValue: Int64 as two's complement, UInt64, DateTime (ms)
	Float        float32
	Double       float64
	Bool         bool
	String       string
	Raw          []byte // BytesValue and ExtensionValue
	DataSet      *DataSet
	Template     *Template
	PropertySet  *PropertySet
	PropertySets *PropertySetList
}

// MetaData describes a Bytes or File metric, or a multi-part message.
type MetaData struct {
	IsMultiPart *bool
	ContentType *string
	Size        *uint64
	Seq         *uint64
	FileName    *string
	FileType    *string
	MD5         *string
	Description *string
}

// PropertySet is a metric's properties: Keys[i] names Values[i].
type PropertySet struct {
	Keys   []string
	Values []PropertyValue
}

// PropertyValue is one property; Type says how to read Value.
type PropertyValue struct {
	Type   *DataType
	IsNull *bool
	Value  Value
}

// PropertySetList is a list of property sets (datatype PropertySetList).
type PropertySetList struct {
	PropertySets []PropertySet
}

// DataSet is a table: Columns[i] holds values of Types[i].
type DataSet struct {
	NumColumns *uint64
	Columns    []string
	Types      []DataType
	Rows       []Row
}

// Row is one row of a DataSet; Elements[i] belongs to column i.
type Row struct {
	Elements []Value
}

// Template is a user-defined type (UDT): a definition, or an instance that
// refers to one by TemplateRef.
type Template struct {
	Version      *string
	Metrics      []Metric
	Parameters   []Parameter
	TemplateRef  *string
	IsDefinition *bool
}

// Parameter is one template parameter.
type Parameter struct {
	Name  *string
	Type  *DataType
	Value Value
}
