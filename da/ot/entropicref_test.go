package ot

import (
	"encoding/json"
	"testing"
)

// entropicGroups are the POT calls of the entropic and structured tests by
// group; each builder is deterministic (seeded), so a test rebuilds the
// inputs it sent.
var entropicGroups = []struct {
	name  string
	calls func() []potCall
}{
	{"sinkhorn", sinkhornCalls},
	{"unbalanced", unbalancedCalls},
	{"divergence", divergenceCalls},
	{"gromov", gromovCalls},
}

// entropicResults caches the POT results of all groups, raw, by group.
var entropicResults map[string][]json.RawMessage

// entropicPOT decodes the POT results of group into outs. The first call
// runs the calls of every group in one POT process (importing POT costs
// seconds); later calls reuse the results.
func entropicPOT(t *testing.T, group string, outs ...any) {
	t.Helper()
	if entropicResults == nil {
		var all []potCall
		var raws []any
		var names []string
		for _, g := range entropicGroups {
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
		entropicResults = res
	}
	res := entropicResults[group]
	if len(res) != len(outs) {
		t.Fatalf("POT group %s: %d results for %d outputs", group, len(res), len(outs))
	}
	for k, r := range res {
		if err := json.Unmarshal(r, outs[k]); err != nil {
			t.Fatalf("POT group %s, result %d: decoding %.200q: %v", group, k, r, err)
		}
	}
}
