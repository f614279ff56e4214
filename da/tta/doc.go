// Package tta adapts a trained classifier to a shifted target domain at test
// time, without the source data: batch-norm adaptation (test-batch
// statistics, α-BN and AdaBN), Tent (entropy minimisation of the batch-norm
// affine parameters), SHOT-style information maximisation with centroid
// pseudo-labels, CoTTA (EMA teacher, augmentation-averaged pseudo-labels and
// stochastic restore) and LAME (a parameter-free Laplacian adjustment of the
// outputs).
//
// Every method is a Method built from a source models.Classifier. It adapts
// its own copy of the model, so the source model is never changed, and Reset
// returns the copy to the source state. Evaluate runs a method over a Stream
// of target batches, such as one made of a dataset under a sequence of
// corruptions, either episodically (reset before every batch) or continually
// (adapting across the whole stream), and a Report compares methods as a
// table of accuracy per corruption and as accuracy curves along the stream.
package tta
