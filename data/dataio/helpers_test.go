package dataio

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// writeBytes writes b to a file called name in a fresh temporary directory
// and returns its path.
func writeBytes(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkTensor fails unless x has the given shape and values (NaNs equal).
func checkTensor(t *testing.T, x *tensor.Tensor, shape []int, want []float32) {
	t.Helper()
	if x == nil {
		t.Fatalf("nil tensor, want shape %v", shape)
	}
	if !slices.Equal(x.Shape(), shape) {
		t.Fatalf("shape %v, want %v", x.Shape(), shape)
	}
	got := x.Data()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Fatalf("value %d = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

// checkFormatError fails unless err is a *FormatError at offset whose
// message contains every one of parts.
func checkFormatError(t *testing.T, err error, offset int64, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one at byte %d mentioning %q", offset, parts)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q is a %T, want *FormatError", err, err)
	}
	if fe.Offset != offset {
		t.Errorf("error %q: offset %d, want %d", err, fe.Offset, offset)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// checkErrorContains fails unless err's message contains every one of parts.
func checkErrorContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}
