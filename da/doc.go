// Package da is graft's domain adaptation: a labelled source domain and an
// unlabelled target domain, and the methods that carry a model from one to
// the other — gradient reversal and its family (DANN, CDAN, ADDA),
// discrepancy losses (multi-kernel MMD, DAN, CORAL, joint MMD), importance
// weighting for covariate shift (classifier density ratio, KMM, KLIEP) and
// the metrics that say whether two domains line up (proxy A-distance, CKA,
// per-domain accuracy, calibration error).
//
// Objectives that act on a source and a target batch together implement
// Alignment, so that one training loop serves them all: the loop computes
// the features and logits of both batches, adds the alignment's loss to the
// source cross-entropy, and trains the alignment's own parameters (a domain
// discriminator's) in the same step. Test-time and source-free adaptation
// live in da/tta, optimal transport in da/ot.
package da
