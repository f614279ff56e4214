package ot

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/internal/testenv"
)

// potCall is one call of a function of the pot_*.py scripts: its name in
// their FUNCS and its keyword arguments.
type potCall struct {
	Fn   string         `json:"fn"`
	Args map[string]any `json:"args"`
}

// runPOT makes calls in one POT process (testdata/potref.py; importing POT
// takes seconds, so batch them) and decodes result k into outs[k]. Without
// POT the test skips on a laptop and fails under CI (testenv.RunJSON).
func runPOT(t *testing.T, calls []potCall, outs ...any) {
	t.Helper()
	if len(calls) != len(outs) {
		t.Fatalf("runPOT: %d calls, %d outputs", len(calls), len(outs))
	}
	var raw []json.RawMessage
	testenv.RunJSON(t, filepath.Join("testdata", "potref.py"), calls, &raw, "ot", "numpy")
	if len(raw) != len(outs) {
		t.Fatalf("POT: %d results for %d calls", len(raw), len(calls))
	}
	for k, r := range raw {
		if err := json.Unmarshal(r, outs[k]); err != nil {
			t.Fatalf("POT %s: decoding %.200q: %v", calls[k].Fn, r, err)
		}
	}
}

// pointers returns pointers to the elements of s, the outputs for a run of
// POT calls that each give one element.
func pointers[T any](s []T) []any {
	out := make([]any, len(s))
	for k := range s {
		out[k] = &s[k]
	}
	return out
}

// potGroup is a named group of POT calls; its builder is deterministic
// (seeded), so a test rebuilds the inputs it sent.
type potGroup struct {
	name  string
	calls func() []potCall
}

// potBatch runs the calls of all its groups in one POT process the first
// time any group's results are asked for (importing POT costs seconds) and
// keeps the results, raw, by group.
type potBatch struct {
	groups  []potGroup
	results map[string][]json.RawMessage
}

// decode decodes the POT results of group into outs, running the batch
// first if it has not run.
func (b *potBatch) decode(t *testing.T, group string, outs ...any) {
	t.Helper()
	if b.results == nil {
		var all []potCall
		var raws []any
		var names []string
		for _, g := range b.groups {
			for _, c := range g.calls() {
				all = append(all, c)
				raws = append(raws, new(json.RawMessage))
				names = append(names, g.name)
			}
		}
		runPOT(t, all, raws...)
		res := map[string][]json.RawMessage{}
		for k, r := range raws {
			res[names[k]] = append(res[names[k]], *r.(*json.RawMessage))
		}
		b.results = res
	}
	res := b.results[group]
	if len(res) != len(outs) {
		t.Fatalf("POT group %s: %d results for %d outputs", group, len(res), len(outs))
	}
	for k, r := range res {
		if err := json.Unmarshal(r, outs[k]); err != nil {
			t.Fatalf("POT group %s, result %d: decoding %.200q: %v", group, k, r, err)
		}
	}
}

// rows returns m as nested slices, the form the POT scripts take.
func rows(m *Matrix) [][]float64 {
	out := make([][]float64, m.Rows)
	for i := range out {
		out[i] = append([]float64(nil), m.Row(i)...)
	}
	return out
}

// maxAbsDiff returns the largest |a_ij − b_ij| between m and nested rows b.
func maxAbsDiff(t *testing.T, m *Matrix, b [][]float64) float64 {
	t.Helper()
	if len(b) != m.Rows {
		t.Fatalf("reference has %d rows, graft %d", len(b), m.Rows)
	}
	d := 0.0
	for i, r := range b {
		if len(r) != m.Cols {
			t.Fatalf("reference row %d has %d values, graft %d", i, len(r), m.Cols)
		}
		for j, v := range r {
			d = math.Max(d, math.Abs(m.At(i, j)-v))
		}
	}
	return d
}

func TestDistMatchesPOT(t *testing.T) {
	r := newTestRand(1)
	xs, xt := r.matrix(7, 3), r.matrix(5, 3)
	metrics := []Metric{SqEuclidean, Euclidean, Cityblock}
	var calls []potCall
	want := make([][][]float64, len(metrics))
	for _, metric := range metrics {
		calls = append(calls, potCall{"dist", map[string]any{"xs": rows(xs), "xt": rows(xt), "metric": string(metric)}})
	}
	runPOT(t, calls, pointers(want)...)
	for k, metric := range metrics {
		got, err := Dist(xs, xt, metric)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, got, want[k]); d > 1e-12 {
			t.Errorf("%s: max |graft − POT| = %g", metric, d)
		}
	}
}
