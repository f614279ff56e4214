package digits

import (
	"bytes"
	"compress/gzip"
	"os/exec"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
)

func TestUCIKnownValues(t *testing.T) {
	d, err := UCICounts()
	if err != nil {
		t.Fatal(err)
	}
	if got := d.X.Shape(); len(got) != 4 || got[0] != UCISize || got[1] != 1 || got[2] != 8 || got[3] != 8 {
		t.Fatalf("shape %v, want [1797 1 8 8]", got)
	}
	if d.Name != "uci" || len(d.Classes) != 10 || d.Classes[7] != "7" {
		t.Errorf("name %q classes %v", d.Name, d.Classes)
	}
	// Values read from the file by hand: the first digit (a 0), its first row.
	x := d.X.Data()
	wantRow := []float32{0, 0, 5, 13, 9, 1, 0, 0}
	for j, w := range wantRow {
		if x[j] != w {
			t.Fatalf("first row %v, want %v", x[:8], wantRow)
		}
	}
	if d.Labels[0] != 0 || d.Labels[UCISize-1] != 8 {
		t.Errorf("first/last labels %d, %d; want 0, 8", d.Labels[0], d.Labels[UCISize-1])
	}
	// Class sizes and the total ink, as sklearn reports them.
	wantCounts := []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}
	got := make([]int, 10)
	for _, l := range d.Labels {
		got[l]++
	}
	for k := range got {
		if got[k] != wantCounts[k] {
			t.Fatalf("class sizes %v, want %v", got, wantCounts)
		}
	}
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	if sum != 561718 {
		t.Errorf("sum of counts %v, want 561718", sum)
	}

	s, err := UCI()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range s.X.Data() {
		if v != x[i]/MaxCount || v < 0 || v > 1 {
			t.Fatalf("UCI()[%d] = %v, want count %v / 16", i, v, x[i])
		}
	}
}

// TestUCIMatchesSklearn compares every pixel and label with scikit-learn's
// load_digits.
func TestUCIMatchesSklearn(t *testing.T) {
	t.Parallel() // overlaps with the other slow tests (Python start-up, training)
	py := testenv.RequirePython(t, "sklearn", "numpy")
	script := `
import sys, numpy as np
from sklearn.datasets import load_digits
d = load_digits()
assert d.images.shape == (1797, 8, 8), d.images.shape
sys.stdout.buffer.write(d.images.astype(np.uint8).tobytes())
sys.stdout.buffer.write(d.target.astype(np.uint8).tobytes())
`
	cmd := exec.Command(py, "-c", script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if len(out) != UCISize*65 {
		t.Fatalf("python wrote %d bytes, want %d", len(out), UCISize*65)
	}
	d, err := UCICounts()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range d.X.Data() {
		if v != float32(out[i]) {
			t.Fatalf("pixel %d (image %d, row %d, col %d) = %v, sklearn %d", i, i/64, i%64/8, i%8, v, out[i])
		}
	}
	for i, l := range d.Labels {
		if l != int(out[UCISize*64+i]) {
			t.Fatalf("label %d = %d, sklearn %d", i, l, out[UCISize*64+i])
		}
	}
}

func TestParseUCIErrors(t *testing.T) {
	row := strings.Repeat("0,", 64) + "3\n"
	cases := []struct{ name, csv, want string }{
		{"fields", "1,2,3\n", "line 1 has 3 fields, want 65"},
		{"range", row + strings.Repeat("0,", 10) + "17," + strings.Repeat("0,", 53) + "1\n", `line 2 field 11 is "17", want an integer in [0, 16]`},
		{"label", strings.Repeat("0,", 64) + "10\n", `line 1 field 65 is "10", want an integer in [0, 9]`},
		{"text", strings.Repeat("0,", 64) + "x\n", `field 65 is "x"`},
		{"empty", "", "no digits"},
	}
	for _, c := range cases {
		_, _, err := parseUCI(gzipped(t, c.csv), "t.csv.gz")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "t.csv.gz") {
			t.Errorf("%s: error %v, want it to name the file and say %q", c.name, err, c.want)
		}
	}
	if _, _, err := parseUCI([]byte("not gzip"), "t.csv.gz"); err == nil || !strings.Contains(err.Error(), "t.csv.gz") {
		t.Errorf("not gzip: error %v", err)
	}
	counts, labels, err := parseUCI(gzipped(t, row+row), "ok")
	if err != nil || len(counts) != 128 || len(labels) != 2 || labels[1] != 3 {
		t.Errorf("two rows: %d counts, labels %v, err %v", len(counts), labels, err)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
