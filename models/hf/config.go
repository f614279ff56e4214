// Package hf reads and writes checkpoints in the Hugging Face layout: a
// directory holding config.json (the architecture's hyper-parameters) and the
// weights in model.safetensors, or split over several safetensors shards
// listed in model.safetensors.index.json. Model packages (models/gpt2,
// models/bert, models/vit, models/clip) build on it: they decode config.json
// into their own Config struct with ReadConfig and copy the tensors into a
// model whose parameter names are the checkpoint's with LoadWeights, renaming
// or skipping names where a checkpoint of the family differs. Problems are
// reported, not panicked: a missing required config key, a malformed file, or
// a checkpoint whose names or shapes do not fit the model yields an error that
// names the file and the first few mismatches.
package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ConfigFile is the name of the configuration file in a checkpoint directory.
const ConfigFile = "config.json"

// configPath resolves ReadConfig's path argument: a .json file as given, or
// config.json inside a directory.
func configPath(path string) (string, error) {
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		return path, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("hf: config: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("hf: config: %s is neither a directory nor a .json file", path)
	}
	return filepath.Join(path, ConfigFile), nil
}

// ReadConfig decodes a configuration into cfg, a pointer to a struct with
// json tags. path is a checkpoint directory (config.json inside it is read)
// or a .json file. Keys the struct does not know are ignored, so a config
// written by a newer library still loads; fields absent from the file keep the
// values cfg already holds (set defaults before calling). Each key in required
// must be present in the file, or the error names every absent one and the
// file. Syntax and type errors give the byte offset.
func ReadConfig(path string, cfg any, required ...string) error {
	file, err := configPath(path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("hf: config: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return fmt.Errorf("hf: config %s: %s", file, describeJSONError(err))
	}
	var missing []string
	for _, k := range required {
		if _, ok := keys[k]; !ok {
			missing = append(missing, fmt.Sprintf("%q", k))
		}
	}
	if len(missing) > 0 {
		s := ""
		if len(missing) > 1 {
			s = "s"
		}
		return fmt.Errorf("hf: config %s: missing required key%s %s", file, s, strings.Join(missing, ", "))
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return fmt.Errorf("hf: config %s: %s", file, describeJSONError(err))
	}
	return nil
}

// describeJSONError words a decoding error with the byte offset and, for a
// value of the wrong type, the key.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte offset %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("key %q at byte offset %d holds a JSON %s, want %s", field, typ.Offset, typ.Value, typ.Type)
	}
	return err.Error()
}

// WriteConfig writes cfg as indented JSON to config.json in dir, creating dir
// if needed. Map keys come out sorted and struct fields in declaration order,
// so the same config always gives the same file.
func WriteConfig(dir string, cfg any) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("hf: config for %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("hf: config: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, ConfigFile), append(b, '\n'))
}

// writeFileAtomic writes data to a temporary file next to path and renames it
// over path, so a failed write never leaves a truncated file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, 0o644)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("hf: writing %s: %w", path, werr)
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
