package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file writes JSON the way Python's json.dumps does with the arguments
// nbformat passes (indent=1, sort_keys=True, separators=(",", ": "),
// ensure_ascii=False), so that a notebook written here is byte for byte what
// Jupyter writes for the same content. Numbers are written as Python would
// write them after reading them: integers as they are, other numbers in the
// form Python's float repr gives.

// encodeJSON appends v, indented by depth levels of one space, to buf.
func encodeJSON(buf *bytes.Buffer, v any, depth int) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case string:
		writePyString(buf, x)
	case json.Number:
		s, err := pyNumber(string(x))
		if err != nil {
			return err
		}
		buf.WriteString(s)
	case float64:
		return encodeFloat(buf, x)
	case float32:
		return encodeFloat(buf, float64(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case map[string]any:
		return encodeObject(buf, x, depth)
	case []any:
		return encodeArray(buf, len(x), func(i int) any { return x[i] }, depth)
	case []string:
		return encodeArray(buf, len(x), func(i int) any { return x[i] }, depth)
	default:
		g, err := toGeneric(v)
		if err != nil {
			return err
		}
		if reflect.TypeOf(g) == reflect.TypeOf(v) {
			return fmt.Errorf("notebook: cannot write a %T as JSON", v)
		}
		return encodeJSON(buf, g, depth)
	}
	return nil
}

func encodeFloat(buf *bytes.Buffer, f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("notebook: cannot write the number %v as JSON", f)
	}
	// The number travels as Go's JSON text, which Python then reads back.
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	s, err := pyNumber(string(raw))
	if err != nil {
		return err
	}
	buf.WriteString(s)
	return nil
}

func newline(buf *bytes.Buffer, depth int) {
	buf.WriteByte('\n')
	for range depth {
		buf.WriteByte(' ')
	}
}

func encodeObject(buf *bytes.Buffer, m map[string]any, depth int) error {
	if len(m) == 0 {
		buf.WriteString("{}")
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // UTF-8 byte order is code point order, as Python sorts
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		newline(buf, depth+1)
		writePyString(buf, k)
		buf.WriteString(": ")
		if err := encodeJSON(buf, m[k], depth+1); err != nil {
			return err
		}
	}
	newline(buf, depth)
	buf.WriteByte('}')
	return nil
}

func encodeArray(buf *bytes.Buffer, n int, at func(int) any, depth int) error {
	if n == 0 {
		buf.WriteString("[]")
		return nil
	}
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		newline(buf, depth+1)
		if err := encodeJSON(buf, at(i), depth+1); err != nil {
			return err
		}
	}
	newline(buf, depth)
	buf.WriteByte(']')
	return nil
}

// writePyString writes s as a JSON string the way Python's json module does
// with ensure_ascii=False: quote, backslash and control characters escaped,
// everything else (including <, >, & and U+2028) written as it is. Invalid
// UTF-8 becomes U+FFFD, which is what a Python str could hold in its place.
func writePyString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf.WriteRune(utf8.RuneError)
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r == '\b':
			buf.WriteString(`\b`)
		case r == '\f':
			buf.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(buf, `\u%04x`, r)
		default:
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}

// pyNumber returns the text Python's json module writes for a number that it
// read as text: an integer keeps its digits (Python ints are unbounded), any
// other number becomes a float and is written as repr(float) writes it.
func pyNumber(text string) (string, error) {
	if !strings.ContainsAny(text, ".eE") {
		n, ok := new(big.Int).SetString(text, 10)
		if !ok {
			return "", fmt.Errorf("notebook: %q is not a JSON number", text)
		}
		return n.String(), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		// Python reads an out-of-range float as inf and then refuses to
		// write it as JSON; there is nothing faithful to write.
		return "", fmt.Errorf("notebook: number %q is out of range", text)
	}
	return pyFloatRepr(f), nil
}

// pyFloatRepr formats f as Python's repr(float) does: the shortest digits
// that read back to f, in positional notation when the decimal exponent is
// between -4 and 16 (with ".0" on whole numbers), else as d.ddde±XX.
func pyFloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expText)
	decpt := exp + 1 // f = 0.digits × 10^decpt
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			return sign + digits[:decpt] + "." + digits[decpt:]
		}
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
}

// toGeneric turns any JSON-encodable Go value into the generic form
// (map[string]any, []any, string, json.Number, bool, nil).
func toGeneric(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("notebook: cannot write a %T as JSON: %w", v, err)
	}
	return decodeGeneric(raw)
}

// decodeGeneric parses JSON text keeping numbers as json.Number.
func decodeGeneric(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("notebook: unexpected data after the JSON value")
	}
	return g, nil
}
