package peft

import (
	"encoding/json"

	"github.com/graftml/graft/nn"
)

// Tuner is a layer a method puts in place of a target module: it keeps the
// (frozen) base layer and the parameters of one or more named adapters,
// and its forward pass applies the active ones. LoraLayer and ModulesToSave
// are Tuners; every method adds its own.
type Tuner interface {
	nn.Layer
	nn.Adapter
	// BaseLayer returns the wrapped layer.
	BaseLayer() nn.Layer
	// AdapterNames lists the adapters the layer holds, in the order added.
	AdapterNames() []string
	// SetActive makes the named adapters the ones Forward applies (names the
	// layer does not hold are ignored), their parameters trainable and every
	// other adapter's frozen.
	SetActive(names []string)
	// SetEnabled switches the adapters on or off; off, Forward is the base
	// layer's (with whatever is merged into it).
	SetEnabled(on bool)
	// DeleteAdapter removes the named adapter's parameters; it reports
	// whether the layer still holds any adapter.
	DeleteAdapter(name string) bool
	// Merge folds the named adapters into the base layer's weights.
	Merge(names []string) error
	// Unmerge takes every merged adapter back out of the base weights.
	Unmerge() error
	// MergedAdapters lists the adapters merged into the base weights.
	MergedAdapters() []string
	// Unwrap returns the layer to put back in place of the wrapper when the
	// model is unloaded, after merging the active adapters when merge is set.
	Unwrap(merge bool) (nn.Layer, error)
	// AdapterTensors returns the named adapter's tensors under the names a
	// saved adapter uses, relative to the module ("lora_A.weight").
	AdapterTensors(adapter string) []nn.NamedTensor
}

// Plan is a checked, not yet applied change to one module: Apply makes it and
// returns the layer that must stand in the module's place (a new wrapper, or
// the existing one it added an adapter to). Shapes gives the shape of each
// tensor the adapter will hold under its saved name relative to the module,
// for checking a file against before anything changes.
//
// Shared gives, for methods whose adapters share tensors across modules
// (VeRA), their shapes under the saved names relative to SharedKeyPrefix;
// every module's plan may repeat them.
type Plan struct {
	Shapes map[string][]int
	Shared map[string][]int
	Apply  func() nn.Layer
}

// Method is a parameter-efficient fine-tuning method's configuration for one
// named adapter: which modules it targets and how it adapts one of them.
// Its JSON form is the adapter_config.json PEFT writes.
type Method interface {
	json.Marshaler
	// PeftType is PEFT's name for the method ("LORA").
	PeftType() string
	// Targets says which modules the method adapts.
	Targets() Target
	// SavedModules lists the modules trained and saved whole alongside the
	// adapter (PEFT's modules_to_save).
	SavedModules() []string
	// Validate checks the configuration on its own.
	Validate() error
	// Prepare checks that the module called name, now the layer current (a
	// Tuner of this method when the module already holds adapters), can take
	// the adapter, and returns the plan that adds it; index numbers the
	// targets in model order, for seeding. It changes nothing.
	Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error)
}
