// Package merge combines what several fine-tunes learned into one model
// without retraining: task vectors (τ = θ_ft − θ_base per parameter) and the
// merges over them — task arithmetic, TIES, DARE and DARE-TIES, Model
// Breadcrumbs, Fisher-weighted averaging, SLERP and Model Stock — and the
// combination of LoRA adapters (an exact weighted sum of their ΔW,
// concatenation, SVD truncation, TIES or DARE on ΔW) with LoraHub's
// gradient-free search for the combination weights.
//
// Every merge method implements one seam, Method: it merges the task vectors
// of one tensor. The same methods therefore merge whole models (one call per
// parameter) and LoRA adapters (one call per adapted layer, on the dense ΔW).
// Where the reference tools disagree (sign election and normalisation in
// TIES, DARE's rescaling) a method offers both behaviours by option; its doc
// comment names the default and why.
package merge
