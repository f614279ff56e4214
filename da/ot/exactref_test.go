package ot

import "testing"

// exactBatch holds the POT calls of the exact-side tests by group, run in
// one POT process.
var exactBatch = &potBatch{groups: []potGroup{
	{"emd", emdCalls},
	{"degenerate", degenerateCalls},
	{"1d", oneDCalls},
	{"partial", partialCalls},
	{"mapping", mappingCalls},
}}

// exactPOT decodes the POT results of group of exactBatch into outs.
func exactPOT(t *testing.T, group string, outs ...any) {
	t.Helper()
	exactBatch.decode(t, group, outs...)
}
