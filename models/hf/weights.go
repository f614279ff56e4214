package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// WeightsFile is the name of a checkpoint's weights when they are in one file.
const WeightsFile = "model.safetensors"

// IndexFile is the name of the index of a sharded checkpoint: JSON with a
// "weight_map" from tensor name to the shard file holding it.
const IndexFile = "model.safetensors.index.json"

// maxListed is how many mismatches a MismatchError spells out.
const maxListed = 5

// Weights is an opened checkpoint: the tensors of model.safetensors, or of
// every shard its index lists, by name. Tensor data is read on demand.
type Weights struct {
	Dir   string   // the checkpoint directory (or the .safetensors file given)
	Files []string // the safetensors files, in the order opened
	files []*safetensors.File
	where map[string]int // tensor name → index into files
}

// OpenWeights opens the weights of the checkpoint in dir: model.safetensors
// if present, otherwise the shards named by model.safetensors.index.json.
// dir may also be the path of a single .safetensors file. Every file's header
// is validated; a tensor stored twice, or one the index places in a shard that
// does not hold it, is an error naming both. Close the result when done.
func OpenWeights(dir string) (*Weights, error) {
	files, index, err := weightFiles(dir)
	if err != nil {
		return nil, err
	}
	w := &Weights{Dir: dir, Files: files, where: map[string]int{}}
	for i, path := range files {
		f, err := safetensors.Open(path)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("hf: %w", err)
		}
		w.files = append(w.files, f)
		for _, n := range f.Names() {
			if j, dup := w.where[n]; dup {
				w.Close()
				return nil, fmt.Errorf("hf: tensor %q is stored in both %s and %s", n, files[j], path)
			}
			w.where[n] = i
		}
	}
	if err := w.checkIndex(index); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// weightFiles lists the safetensors files of the checkpoint at dir and, for a
// sharded one, the index's weight map.
func weightFiles(dir string) ([]string, map[string]string, error) {
	if strings.HasSuffix(dir, ".safetensors") {
		return []string{dir}, nil, nil
	}
	single := filepath.Join(dir, WeightsFile)
	if _, err := os.Stat(single); err == nil {
		return []string{single}, nil, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("hf: %w", err)
	}
	idx, err := readIndex(dir)
	if err == nil {
		var files []string
		seen := map[string]bool{}
		for _, name := range sortedKeys(idx) {
			shard := idx[name]
			if !seen[shard] {
				seen[shard] = true
				files = append(files, filepath.Join(dir, shard))
			}
		}
		sort.Strings(files)
		return files, idx, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if st, serr := os.Stat(dir); serr != nil {
		return nil, nil, fmt.Errorf("hf: checkpoint: %w", serr)
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("hf: checkpoint %s is neither a directory nor a .safetensors file", dir)
	}
	for _, other := range []string{"pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack"} {
		if _, err := os.Stat(filepath.Join(dir, other)); err == nil {
			return nil, nil, fmt.Errorf("hf: checkpoint %s has no %s or %s, only %s, a format graft does not read: convert it to safetensors", dir, WeightsFile, IndexFile, other)
		}
	}
	return nil, nil, fmt.Errorf("hf: checkpoint %s has neither %s nor %s", dir, WeightsFile, IndexFile)
}

// readIndex reads the weight_map of dir's index file. A missing file is
// reported with an error satisfying errors.Is(err, fs.ErrNotExist).
func readIndex(dir string) (map[string]string, error) {
	path := filepath.Join(dir, IndexFile)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("hf: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("hf: index %s: %s", path, describeJSONError(err))
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("hf: index %s: no \"weight_map\" (or an empty one)", path)
	}
	for name, shard := range idx.WeightMap {
		if shard == "" || shard != filepath.Base(shard) || shard == "." || shard == ".." {
			return nil, fmt.Errorf("hf: index %s: tensor %q is mapped to %q, which is not a file name in the checkpoint directory", path, name, shard)
		}
	}
	return idx.WeightMap, nil
}

// checkIndex verifies, for a sharded checkpoint (index not nil), that every
// tensor the index lists is in the shard it names.
func (w *Weights) checkIndex(index map[string]string) error {
	for _, name := range sortedKeys(index) {
		shard := filepath.Join(w.Dir, index[name])
		if i, ok := w.where[name]; !ok || w.Files[i] != shard {
			return fmt.Errorf("hf: index %s places %q in %s, which does not hold it", filepath.Join(w.Dir, IndexFile), name, shard)
		}
	}
	return nil
}

// Names returns the names of all tensors in the checkpoint, sorted.
func (w *Weights) Names() []string {
	return sortedKeys(w.where)
}

// Info describes the named tensor (dtype, shape, where it is stored).
func (w *Weights) Info(name string) (safetensors.TensorInfo, bool) {
	i, ok := w.where[name]
	if !ok {
		return safetensors.TensorInfo{}, false
	}
	return w.files[i].Info(name)
}

// ReadFloat32 reads the named tensor converted to float32, with its shape.
func (w *Weights) ReadFloat32(name string) ([]float32, []int, error) {
	i, ok := w.where[name]
	if !ok {
		return nil, nil, fmt.Errorf("hf: checkpoint %s has no tensor %q", w.Dir, name)
	}
	return w.files[i].ReadFloat32(name)
}

// Metadata returns the "__metadata__" of the first file (nil if none).
func (w *Weights) Metadata() map[string]string {
	if len(w.files) == 0 {
		return nil
	}
	return w.files[0].Metadata()
}

// Close closes every file. It is safe to call more than once.
func (w *Weights) Close() error {
	var first error
	for _, f := range w.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// LoadOptions adapts a checkpoint's names to a model's.
type LoadOptions struct {
	// Rename maps a checkpoint tensor name to the model's name for it;
	// returning "" skips the tensor (a buffer such as a causal-mask constant,
	// or a head the model does not have). nil keeps names as they are.
	Rename func(checkpointName string) string
	// AllowMissing lists model names that may be absent from the checkpoint:
	// a parameter name, or a module name covering everything below it (such
	// as a tied "lm_head"). Those tensors keep their current values.
	AllowMissing []string
}

// StripPrefix returns a Rename function that removes the first of prefixes
// that a name starts with and leaves other names unchanged — for checkpoints
// of a task model ("transformer.h.0…", "bert.encoder…") loaded into the base
// model.
func StripPrefix(prefixes ...string) func(string) string {
	ps := append([]string(nil), prefixes...)
	return func(name string) string {
		for _, p := range ps {
			if strings.HasPrefix(name, p) {
				return name[len(p):]
			}
		}
		return name
	}
}

// ShapeMismatch is a tensor whose shape differs between checkpoint and model.
type ShapeMismatch struct {
	Name       string // the model's name for it
	Checkpoint []int
	Model      []int
}

// MismatchError reports a checkpoint that does not fit a model. Names are the
// model's (after LoadOptions.Rename), except Unexpected, which gives the
// checkpoint's name (and the renamed one when they differ).
type MismatchError struct {
	Dir        string
	Shapes     []ShapeMismatch // in the model's order
	Missing    []string        // model tensors the checkpoint lacks
	Unexpected []string        // checkpoint tensors the model does not have
	Duplicates []string        // model names that several checkpoint tensors map to
	Hint       string          // a likely fix, when one is evident
}

// Error lists the counts of each kind of mismatch and the first few of them.
func (e *MismatchError) Error() string {
	var counts, lines []string
	add := func(n int, one, many string) {
		if n == 1 {
			counts = append(counts, "1 "+one)
		} else if n > 1 {
			counts = append(counts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(len(e.Shapes), "shape mismatch", "shape mismatches")
	add(len(e.Missing), "missing", "missing")
	add(len(e.Unexpected), "unexpected", "unexpected")
	add(len(e.Duplicates), "duplicate", "duplicates")
	for _, s := range e.Shapes {
		lines = append(lines, fmt.Sprintf("%s: checkpoint %s, model expects %s", s.Name, tensor.FormatShape(s.Checkpoint), tensor.FormatShape(s.Model)))
	}
	for _, n := range e.Missing {
		lines = append(lines, "missing from the checkpoint: "+n)
	}
	for _, n := range e.Unexpected {
		lines = append(lines, "not in the model: "+n)
	}
	for _, n := range e.Duplicates {
		lines = append(lines, "given more than once: "+n)
	}
	total := len(lines)
	if len(lines) > maxListed {
		lines = lines[:maxListed]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hf: checkpoint %s does not fit the model (%s)", e.Dir, strings.Join(counts, ", "))
	for _, l := range lines {
		b.WriteString("\n  " + l)
	}
	if total > maxListed {
		fmt.Fprintf(&b, "\n  … and %d more", total-maxListed)
	}
	if e.Hint != "" {
		b.WriteString("\n  hint: " + e.Hint)
	}
	return b.String()
}

// allowed reports whether name is covered by one of the module or parameter
// names in allow.
func allowed(name string, allow []string) bool {
	for _, a := range allow {
		if name == a || strings.HasPrefix(name, a+".") {
			return true
		}
	}
	return false
}

// LoadWeights copies the checkpoint in dir (see OpenWeights) into m's
// parameters and buffers by name. Every checkpoint tensor (after
// opts.Rename) must name a tensor of m with the same shape, and every tensor of
// m must be given unless opts.AllowMissing covers it; otherwise the error is a
// *MismatchError listing the first few problems and their counts, and m is
// unchanged. Tensors stored as F16, BF16 or other dtypes are converted to
// float32. An I/O error while reading may leave m partly loaded.
func LoadWeights(m nn.Module, dir string, opts LoadOptions) error {
	w, err := OpenWeights(dir)
	if err != nil {
		return err
	}
	defer w.Close()
	return LoadWeightsFrom(m, w, opts)
}

// LoadWeightsFrom is LoadWeights from an opened checkpoint, for callers that
// first look at its names (to decide which optional parts a model has).
func LoadWeightsFrom(m nn.Module, w *Weights, opts LoadOptions) error {
	own := map[string]*tensor.Tensor{}
	var order []string
	for _, nt := range nn.StateDict(m) {
		own[nt.Name] = nt.Tensor
		order = append(order, nt.Name)
	}
	e := &MismatchError{Dir: w.Dir}
	source := map[string]string{} // model name → checkpoint name
	for _, name := range w.Names() {
		target := name
		if opts.Rename != nil {
			target = opts.Rename(name)
		}
		if target == "" {
			continue
		}
		if prev, dup := source[target]; dup {
			e.Duplicates = append(e.Duplicates, fmt.Sprintf("%s (from %s and %s)", target, prev, name))
			continue
		}
		t, ok := own[target]
		if !ok {
			if target != name {
				e.Unexpected = append(e.Unexpected, fmt.Sprintf("%s (as %s)", name, target))
			} else {
				e.Unexpected = append(e.Unexpected, name)
			}
			continue
		}
		source[target] = name
		info, _ := w.Info(name)
		if !slices.Equal(info.Shape, t.Shape()) {
			e.Shapes = append(e.Shapes, ShapeMismatch{Name: target, Checkpoint: info.Shape, Model: t.Shape()})
		}
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	sort.SliceStable(e.Shapes, func(i, j int) bool { return pos[e.Shapes[i].Name] < pos[e.Shapes[j].Name] })
	for _, n := range order {
		if _, ok := source[n]; !ok && !allowed(n, opts.AllowMissing) {
			e.Missing = append(e.Missing, n)
		}
	}
	if len(e.Shapes)+len(e.Missing)+len(e.Unexpected)+len(e.Duplicates) > 0 {
		e.Hint = prefixHint(e.Missing, w.Names(), opts.Rename)
		return e
	}
	for _, target := range order {
		name, ok := source[target]
		if !ok {
			continue
		}
		if err := w.files[w.where[name]].ReadInto(name, own[target].Data()); err != nil {
			return fmt.Errorf("hf: loading %s into %s: %w", name, target, err)
		}
	}
	return nil
}

// prefixHint suggests StripPrefix when the checkpoint's names are the
// model's missing names behind a common prefix.
func prefixHint(missing, names []string, rename func(string) string) string {
	if len(missing) == 0 {
		return ""
	}
	miss := map[string]bool{}
	for _, n := range missing {
		miss[n] = true
	}
	for _, name := range names {
		if rename != nil {
			if r := rename(name); r != "" {
				name = r
			}
		}
		for i := 0; i < len(name); i++ {
			if name[i] == '.' && miss[name[i+1:]] {
				return fmt.Sprintf("the checkpoint's names carry the prefix %q (e.g. %s): load with LoadOptions{Rename: hf.StripPrefix(%q)}", name[:i+1], name, name[:i+1])
			}
		}
	}
	return ""
}

// defaultMetadata returns metadata with "format": "pt" added when absent:
// Hugging Face's loaders refuse safetensors files without a known format.
func defaultMetadata(metadata map[string]string) map[string]string {
	out := map[string]string{"format": "pt"}
	maps.Copy(out, metadata)
	return out
}

// entries returns m's state dict as safetensors entries sharing its data.
func entries(m nn.Module) []safetensors.Entry {
	var out []safetensors.Entry
	for _, nt := range nn.StateDict(m) {
		out = append(out, safetensors.Entry{Name: nt.Name, Shape: nt.Tensor.Shape(), Data: nt.Tensor.Data()})
	}
	return out
}

// SaveWeights writes m's parameters and buffers to model.safetensors in dir
// (created if needed) under their names, as float32, with metadata in the
// header (plus "format": "pt" unless given, which Hugging Face's loaders
// require). Tied tensors are written once, under their first name.
func SaveWeights(m nn.Module, dir string, metadata map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if err := safetensors.Save(filepath.Join(dir, WeightsFile), entries(m), defaultMetadata(metadata)); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return nil
}

// SaveWeightsSharded writes m's tensors as Hugging Face does for large
// models: shards model-00001-of-0000N.safetensors of at most maxShardBytes of
// tensor data each (a larger tensor gets a shard of its own), in state-dict
// order, and model.safetensors.index.json mapping each name to its shard.
// When everything fits in one shard it writes model.safetensors alone, as
// SaveWeights does.
func SaveWeightsSharded(m nn.Module, dir string, maxShardBytes int64, metadata map[string]string) error {
	if maxShardBytes <= 0 {
		return fmt.Errorf("hf: shard size %d: must be positive", maxShardBytes)
	}
	all := entries(m)
	var shards [][]safetensors.Entry
	var size, total int64
	for _, e := range all {
		n := int64(len(e.Data)) * 4
		total += n
		if len(shards) == 0 || (size+n > maxShardBytes && size > 0) {
			shards = append(shards, nil)
			size = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], e)
		size += n
	}
	if len(shards) <= 1 {
		return SaveWeights(m, dir, metadata)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	meta := defaultMetadata(metadata)
	weightMap := map[string]string{}
	for i, sh := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := safetensors.Save(filepath.Join(dir, name), sh, meta); err != nil {
			return fmt.Errorf("hf: %w", err)
		}
		for _, e := range sh {
			weightMap[e.Name] = name
		}
	}
	idx := struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{map[string]int64{"total_size": total}, weightMap}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, IndexFile), append(b, '\n'))
}
