package decode

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// scalarNode fills n from a Go value a library decoded (CBOR, MessagePack).
func scalarNode(n *Node, v any) {
	switch x := v.(type) {
	case nil:
		n.Kind, n.Value = KindNull, "null"
	case bool:
		n.Kind, n.Value, n.hasNum, n.isBool = KindBool, strconv.FormatBool(x), true, true
		if x {
			n.num = 1
		}
	case int8, int16, int32, int64, int:
		i := toInt64(x)
		n.Kind, n.Value, n.num, n.hasNum = KindNumber, strconv.FormatInt(i, 10), float64(i), true
	case uint8, uint16, uint32, uint64, uint:
		u := toUint64(x)
		n.Kind, n.Value, n.num, n.hasNum = KindNumber, strconv.FormatUint(u, 10), float64(u), true
	case float32:
		n.Kind, n.Value = KindNumber, formatFloat(float64(x), 32)
		n.num, n.hasNum = float64(x), finite(float64(x))
	case float64:
		n.Kind, n.Value = KindNumber, formatFloat(x, 64)
		n.num, n.hasNum = x, finite(x)
	case *big.Int:
		scalarNode(n, *x)
	case big.Int:
		n.Kind, n.Value = KindNumber, x.String()
		f, _ := new(big.Float).SetInt(&x).Float64()
		n.num, n.hasNum = f, finite(f)
	case string:
		n.Kind, n.Value = KindString, strings.ToValidUTF8(x, "\uFFFD")
	case []byte:
		n.Kind, n.Value = KindBytes, hexString(x)
	case time.Time:
		n.Kind, n.Value = KindTime, x.UTC().Format(time.RFC3339Nano)
	default:
		n.Kind, n.Value = KindOther, fmt.Sprint(x)
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// formatFloat spells f the shortest way that reads back to the same value
// at its own precision, so a float32 21.5 is "21.5", not 21.5000000001.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return v.(int64)
}

func toUint64(v any) uint64 {
	switch x := v.(type) {
	case uint8:
		return uint64(x)
	case uint16:
		return uint64(x)
	case uint32:
		return uint64(x)
	case uint:
		return uint64(x)
	}
	return v.(uint64)
}
