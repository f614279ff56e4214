package ot

import (
	"encoding/json"
	"testing"
)

// exactGroups are the POT calls of the exact-side tests by group; each
// builder is deterministic (seeded), so a test rebuilds the inputs it sent.
var exactGroups = []struct {
	name  string
	calls func() []potCall
}{
	{"emd", emdCalls},
	{"degenerate", degenerateCalls},
	{"1d", oneDCalls},
	{"partial", partialCalls},
	{"mapping", mappingCalls},
}

// exactResults caches the POT results of all groups, raw, by group.
var exactResults map[string][]json.RawMessage

// exactPOT decodes the POT results of group into outs. The first call runs
// the calls of every group in one POT process (importing POT costs
// seconds), later calls reuse the results.
func exactPOT(t *testing.T, group string, outs ...any) {
	t.Helper()
	if exactResults == nil {
		var all []potCall
		var raws []any
		var names []string
		for _, g := range exactGroups {
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
		exactResults = res
	}
	res := exactResults[group]
	if len(res) != len(outs) {
		t.Fatalf("POT group %s: %d results for %d outputs", group, len(res), len(outs))
	}
	for k, r := range res {
		if err := json.Unmarshal(r, outs[k]); err != nil {
			t.Fatalf("POT group %s, result %d: decoding %.200q: %v", group, k, r, err)
		}
	}
}
