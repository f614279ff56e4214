package ot

import "testing"

// entropicBatch holds the POT calls of the entropic and structured tests by
// group, run in one POT process.
var entropicBatch = &potBatch{groups: []potGroup{
	{"sinkhorn", sinkhornCalls},
	{"unbalanced", unbalancedCalls},
	{"divergence", divergenceCalls},
	{"gromov", gromovCalls},
}}

// entropicPOT decodes the POT results of group of entropicBatch into outs.
func entropicPOT(t *testing.T, group string, outs ...any) {
	t.Helper()
	entropicBatch.decode(t, group, outs...)
}
