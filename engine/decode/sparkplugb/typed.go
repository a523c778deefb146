package sparkplugb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Typed returns v as the Go value datatype t says it holds:
//
//	Int8..Int64           int64 (narrowed from the two's complement in int_value/long_value)
//	UInt8..UInt64         uint64
//	Float, Double         float32, float64
//	Boolean               bool
//	String, Text, UUID    string
//	DateTime              time.Time (UTC, from ms since the epoch)
//	Bytes, File           []byte
//	*Array                []int64, []uint64, []float32, []float64, []bool, []string, []time.Time
//	DataSet, Template, PropertySet(List)  the message (*DataSet, ...)
//
// With t Unknown (DATA messages usually leave the datatype to the BIRTH),
// the value is returned by its wire kind: uint32, uint64, float32, ...
// It fails when the wire kind cannot carry t (a Float in string_value) or
// an array's bytes do not divide into elements.
func Typed(t DataType, v Value) (any, error) {
	if v.Kind == NoValue {
		return nil, nil
	}
	if v.Kind == ExtensionValue {
		return v.Raw, nil
	}
	if t == Unknown {
		return raw(v), nil
	}
	need := wantKind(t)
	if need == NoValue {
		return nil, fmt.Errorf("datatype %s is not defined", t)
	}
	// Some writers put 32-bit types in long_value and the reverse; both keep
	// the value intact, so accept either for integer types.
	if v.Kind != need && !(isInteger(t) && (v.Kind == IntValue || v.Kind == LongValue)) {
		return nil, fmt.Errorf("datatype %s needs %s, got %s", t, need, v.Kind)
	}
	n := v.Long
	if v.Kind == IntValue {
		n = uint64(v.Int)
	}
	switch t {
	case Int8:
		return int64(int8(n)), nil
	case Int16:
		return int64(int16(n)), nil
	case Int32:
		return int64(int32(n)), nil
	case Int64:
		return int64(n), nil
	case UInt8:
		return uint64(uint8(n)), nil
	case UInt16:
		return uint64(uint16(n)), nil
	case UInt32:
		return uint64(uint32(n)), nil
	case UInt64:
		return n, nil
	case DateTime:
		return msTime(n), nil
	case Float:
		return v.Float, nil
	case Double:
		return v.Double, nil
	case Boolean:
		return v.Bool, nil
	case String, Text, UUID:
		return v.String, nil
	case Bytes, File:
		return v.Raw, nil
	case DataSetType:
		return v.DataSet, nil
	case TemplateType:
		return v.Template, nil
	case PropertySetType:
		return v.PropertySet, nil
	case PropertySetListType:
		return v.PropertySets, nil
	}
	return array(t, v.Raw)
}

// msTime converts Sparkplug's ms since the epoch to a UTC time.
func msTime(ms uint64) time.Time {
	return time.UnixMilli(int64(ms)).UTC()
}

// Time returns a Sparkplug timestamp (ms since the epoch) as a UTC time.
func Time(ms uint64) time.Time { return msTime(ms) }

func isInteger(t DataType) bool { return t >= Int8 && t <= UInt64 || t == DateTime }

func wantKind(t DataType) ValueKind {
	switch {
	case t >= Int8 && t <= UInt32 && t != Int64:
		return IntValue
	case t == Int64 || t == UInt64 || t == DateTime:
		return LongValue
	case t == Float:
		return FloatValue
	case t == Double:
		return DoubleValue
	case t == Boolean:
		return BoolValue
	case t == String || t == Text || t == UUID:
		return StringValue
	case t == Bytes || t == File || t >= Int8Array && t <= DateTimeArray:
		return BytesValue
	case t == DataSetType:
		return DataSetValue
	case t == TemplateType:
		return TemplateValue
	case t == PropertySetType:
		return PropertySetValue
	case t == PropertySetListType:
		return PropertySetListValue
	}
	return NoValue
}

func raw(v Value) any {
	switch v.Kind {
	case IntValue:
		return v.Int
	case LongValue:
		return v.Long
	case FloatValue:
		return v.Float
	case DoubleValue:
		return v.Double
	case BoolValue:
		return v.Bool
	case StringValue:
		return v.String
	case BytesValue:
		return v.Raw
	case DataSetValue:
		return v.DataSet
	case TemplateValue:
		return v.Template
	case PropertySetValue:
		return v.PropertySet
	case PropertySetListValue:
		return v.PropertySets
	}
	return nil
}

// array unpacks a Sparkplug 3.0 array (section 6.4.17): little-endian
// packed elements; BooleanArray is a 4-byte little-endian count followed by
// the bits, most significant bit first; StringArray is NUL-terminated
// UTF-8 strings.
func array(t DataType, b []byte) (any, error) {
	fixed := func(size int) (int, error) {
		if len(b)%size != 0 {
			return 0, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte elements", t, len(b), size)
		}
		return len(b) / size, nil
	}
	le := binary.LittleEndian
	switch t {
	case Int8Array, Int16Array, Int32Array, Int64Array:
		size := map[DataType]int{Int8Array: 1, Int16Array: 2, Int32Array: 4, Int64Array: 8}[t]
		n, err := fixed(size)
		if err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i := range out {
			e := b[i*size:]
			switch size {
			case 1:
				out[i] = int64(int8(e[0]))
			case 2:
				out[i] = int64(int16(le.Uint16(e)))
			case 4:
				out[i] = int64(int32(le.Uint32(e)))
			default:
				out[i] = int64(le.Uint64(e))
			}
		}
		return out, nil
	case UInt8Array, UInt16Array, UInt32Array, UInt64Array:
		size := map[DataType]int{UInt8Array: 1, UInt16Array: 2, UInt32Array: 4, UInt64Array: 8}[t]
		n, err := fixed(size)
		if err != nil {
			return nil, err
		}
		out := make([]uint64, n)
		for i := range out {
			e := b[i*size:]
			switch size {
			case 1:
				out[i] = uint64(e[0])
			case 2:
				out[i] = uint64(le.Uint16(e))
			case 4:
				out[i] = uint64(le.Uint32(e))
			default:
				out[i] = le.Uint64(e)
			}
		}
		return out, nil
	case FloatArray:
		n, err := fixed(4)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[i*4:]))
		}
		return out, nil
	case DoubleArray:
		n, err := fixed(8)
		if err != nil {
			return nil, err
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(b[i*8:]))
		}
		return out, nil
	case DateTimeArray:
		n, err := fixed(8)
		if err != nil {
			return nil, err
		}
		out := make([]time.Time, n)
		for i := range out {
			out[i] = msTime(le.Uint64(b[i*8:]))
		}
		return out, nil
	case BooleanArray:
		if len(b) < 4 {
			return nil, fmt.Errorf("%s: %d bytes, want a 4-byte count first", t, len(b))
		}
		count := uint64(le.Uint32(b))
		bits := b[4:]
		if need := (count + 7) / 8; uint64(len(bits)) != need {
			return nil, fmt.Errorf("%s: %d values need %d bytes of bits, got %d", t, count, need, len(bits))
		}
		out := make([]bool, count)
		for i := range out {
			out[i] = bits[i/8]&(0x80>>(i%8)) != 0
		}
		return out, nil
	case StringArray:
		if len(b) == 0 {
			return []string{}, nil
		}
		if b[len(b)-1] != 0 {
			return nil, fmt.Errorf("%s: last string is not NUL-terminated", t)
		}
		parts := bytes.Split(b[:len(b)-1], []byte{0})
		out := make([]string, len(parts))
		for i, p := range parts {
			out[i] = string(p)
		}
		return out, nil
	}
	return nil, fmt.Errorf("datatype %s is not an array type", t)
}
