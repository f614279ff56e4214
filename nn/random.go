package nn

import (
	"encoding"
	"fmt"

	"github.com/graftml/graft/tensor"
)

// Stochastic is implemented by modules that draw random numbers in their
// forward pass (Dropout); Generator returns their source.
type Stochastic interface {
	Generator() tensor.Rand
}

// RandomStates returns the saved state of every random source in m, keyed by
// module name, so a checkpoint can restore them. A source that cannot save its
// state (anything but *tensor.RNG or another encoding.BinaryMarshaler) is an
// error naming the module.
func RandomStates(m Module) (map[string][]byte, error) {
	states := map[string][]byte{}
	for _, nm := range Modules(m) {
		s, ok := nm.Module.(Stochastic)
		if !ok || s.Generator() == nil {
			continue
		}
		bm, ok := s.Generator().(encoding.BinaryMarshaler)
		if !ok {
			return nil, fmt.Errorf("nn: module %q (%T) draws from a %T, whose state cannot be saved; give it a tensor.NewRNG(seed)", nm.Name, nm.Module, s.Generator())
		}
		b, err := bm.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("nn: saving the random state of module %q: %w", nm.Name, err)
		}
		states[nm.Name] = b
	}
	return states, nil
}

// SetRandomStates restores states saved by RandomStates. Every stochastic
// module of m must have a state, and every state a module.
func SetRandomStates(m Module, states map[string][]byte) error {
	used := 0
	for _, nm := range Modules(m) {
		s, ok := nm.Module.(Stochastic)
		if !ok || s.Generator() == nil {
			continue
		}
		b, ok := states[nm.Name]
		if !ok {
			return fmt.Errorf("nn: no saved random state for module %q", nm.Name)
		}
		um, ok := s.Generator().(encoding.BinaryUnmarshaler)
		if !ok {
			return fmt.Errorf("nn: module %q draws from a %T, whose state cannot be restored", nm.Name, s.Generator())
		}
		if err := um.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("nn: restoring the random state of module %q: %w", nm.Name, err)
		}
		used++
	}
	if used != len(states) {
		return fmt.Errorf("nn: %d saved random states but the model has %d stochastic modules", len(states), used)
	}
	return nil
}
