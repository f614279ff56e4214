package dataio

import (
	"errors"
	"fmt"
	"strconv"
)

// npyHeaderDict holds the fields of an NPY header that a reader needs.
type npyHeaderDict struct {
	descr   string
	fortran bool
	shape   []int
	errPos  int // where in the header text parsing failed
}

// parseNPYHeader parses the Python dictionary literal of an NPY header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. It accepts
// the literals NumPy writes (strings, True/False, tuples of integers, with
// Python 2's L suffix) and requires the three keys.
func parseNPYHeader(s string) (npyHeaderDict, error) {
	p := &pyParser{s: s}
	h, err := p.header()
	h.errPos = p.i
	return h, err
}

// pyParser is a cursor over a Python literal.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// eat consumes c after optional spaces, reporting whether it was there.
func (p *pyParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) expect(c byte) error {
	if !p.eat(c) {
		return p.errorf("want %q", c)
	}
	return nil
}

func (p *pyParser) errorf(format string, args ...any) error {
	found := "the end"
	if p.i < len(p.s) {
		found = strconv.Quote(p.s[p.i:min(p.i+10, len(p.s))])
	}
	return fmt.Errorf("at character %d: %s, found %s", p.i, fmt.Sprintf(format, args...), found)
}

// str parses a quoted string without escapes (NumPy writes none).
func (p *pyParser) str() (string, error) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("want a quoted string")
	}
	q := p.s[p.i]
	for j := p.i + 1; j < len(p.s); j++ {
		if p.s[j] == '\\' {
			p.i = j
			return "", p.errorf("escapes in strings are not supported")
		}
		if p.s[j] == q {
			v := p.s[p.i+1 : j]
			p.i = j + 1
			return v, nil
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *pyParser) word() string {
	p.space()
	j := p.i
	for j < len(p.s) && (p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= 'a' && p.s[j] <= 'z') {
		j++
	}
	w := p.s[p.i:j]
	p.i = j
	return w
}

// shape parses a tuple of non-negative integers: (), (3,), (3, 4).
func (p *pyParser) shape() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	shape := []int{}
	for {
		if p.eat(')') {
			return shape, nil
		}
		p.space()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, p.errorf("want a dimension (a non-negative integer)")
		}
		d, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, p.errorf("dimension %s is too large", p.s[p.i:j])
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		shape = append(shape, d)
		if !p.eat(',') {
			if err := p.expect(')'); err != nil {
				return nil, err
			}
			if len(shape) == 1 {
				// (3) is the integer 3 in Python, not a tuple.
				p.i--
				return nil, p.errorf("a one-dimensional shape needs a trailing comma")
			}
			return shape, nil
		}
	}
}

func (p *pyParser) header() (npyHeaderDict, error) {
	var h npyHeaderDict
	if err := p.expect('{'); err != nil {
		return h, err
	}
	seen := map[string]bool{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, p.errorf("key %q appears twice", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return h, err
		}
		switch key {
		case "descr":
			p.space()
			if p.i < len(p.s) && p.s[p.i] == '[' {
				return h, p.errorf("structured dtypes (a list of fields) are not supported")
			}
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch w := p.word(); w {
			case "True":
				h.fortran = true
			case "False":
				h.fortran = false
			default:
				p.i -= len(w)
				return h, p.errorf("fortran_order must be True or False")
			}
		case "shape":
			if h.shape, err = p.shape(); err != nil {
				return h, err
			}
		default:
			return h, p.errorf("unknown key %q", key)
		}
		if !p.eat(',') {
			if err := p.expect('}'); err != nil {
				return h, err
			}
			break
		}
	}
	p.space()
	if p.i != len(p.s) {
		return h, p.errorf("want the end of the header")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, errors.New("missing key '" + k + "'")
		}
	}
	return h, nil
}
