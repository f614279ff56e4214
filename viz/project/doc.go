// Package project computes low-dimensional projections of embeddings for
// plotting: principal component analysis (PCA, FitPCA) and t-distributed
// stochastic neighbour embedding (TSNE), exact or Barnes-Hut.
//
// Inputs are float32 tensors of shape (N, D), one point per row, such as the
// features a model computes for a batch; outputs are float32 tensors of shape
// (N, k), ready for a scatter plot. The numerics run in float64. PCA follows
// scikit-learn's PCA (centred data, explained variance with N−1 degrees of
// freedom); t-SNE follows van der Maaten's reference implementation and
// scikit-learn's TSNE (the same affinities, learning-rate rule, early
// exaggeration and initialisation), so results can be checked against
// scikit-learn. Everything is deterministic: the same input and options give
// the same output on the same machine, whatever the number of cores.
package project
