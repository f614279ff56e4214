package tta

import (
	"fmt"
	"reflect"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

var (
	tensorType = reflect.TypeOf((*tensor.Tensor)(nil))
	rngType    = reflect.TypeOf((*tensor.RNG)(nil))
)

// CopyModel returns an independent deep copy of m: the same architecture
// with its own parameters and buffers (same values, same trainability), so
// that training the copy leaves m unchanged. Modules and tensors shared
// inside m (tied weights) stay shared inside the copy. It returns an error
// when m is nil or not a pointer to a struct.
func CopyModel(m models.Classifier) (models.Classifier, error) {
	rv := reflect.ValueOf(m)
	if m == nil || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("tta: cannot copy model %T: a model must be a non-nil pointer to a struct", m)
	}
	c := &copier{seen: map[ptrKey]reflect.Value{}}
	out, ok := c.value(rv).Interface().(models.Classifier)
	if !ok || c.err != nil {
		return nil, fmt.Errorf("tta: cannot copy model %T: %v", m, c.err)
	}
	return out, nil
}

type ptrKey struct {
	ptr uintptr
	typ reflect.Type
}

// copier deep-copies the exported structure of a module; unexported fields
// are copied by value (they hold configuration, not parameters).
type copier struct {
	seen map[ptrKey]reflect.Value
	err  error
}

func (c *copier) value(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(c.value(v.Elem()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		key := ptrKey{v.Pointer(), v.Type()}
		if done, ok := c.seen[key]; ok && v.Type().Elem().Size() > 0 {
			return done
		}
		var out reflect.Value
		switch {
		case v.Type() == tensorType:
			out = reflect.ValueOf(v.Interface().(*tensor.Tensor).Clone())
		case v.Type() == rngType:
			r := tensor.NewRNG(0)
			b, err := v.Interface().(*tensor.RNG).MarshalBinary()
			if err == nil {
				err = r.UnmarshalBinary(b)
			}
			if err != nil && c.err == nil {
				c.err = err
			}
			out = reflect.ValueOf(r)
		case v.Type().Elem().Kind() == reflect.Struct:
			out = reflect.New(v.Type().Elem())
			c.seen[key] = out
			out.Elem().Set(v.Elem())
			c.fields(out.Elem())
		default:
			out = v
		}
		c.seen[key] = out
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		c.fields(out)
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(c.value(v.Index(i)))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(c.value(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(iter.Key(), c.value(iter.Value()))
		}
		return out
	}
	return v
}

// fields replaces each exported field of the settable struct s by its copy.
func (c *copier) fields(s reflect.Value) {
	for i := 0; i < s.NumField(); i++ {
		if f := s.Field(i); f.CanSet() {
			f.Set(c.value(f))
		}
	}
}

// state is a snapshot of a model's parameters and buffers, in StateDict order.
type state []*tensor.Tensor

// snapshot copies the current values of m's parameters and buffers.
func snapshot(m nn.Module) state {
	sd := nn.StateDict(m)
	s := make(state, len(sd))
	for i, e := range sd {
		s[i] = e.Tensor.Clone()
	}
	return s
}

// restore writes the snapshot back into m (which must have the structure the
// snapshot was taken from) and clears the gradients.
func (s state) restore(m nn.Module) error {
	sd := nn.StateDict(m)
	if len(sd) != len(s) {
		return fmt.Errorf("tta: model has %d parameters and buffers, the saved source state %d", len(sd), len(s))
	}
	for i, e := range sd {
		e.Tensor.CopyFrom(s[i])
		if e.Tensor.Grad() != nil {
			e.Tensor.ZeroGrad()
		}
	}
	return nil
}
