// Package prompt is prompt learning for a frozen image–text dual encoder
// (CLIP, models/clip): the CoOp family, where a classifier's weights are
// the text features of prompts built around class names, and only the
// prompts learn.
//
//   - ZeroShot: hand-written templates ("a photo of a {}"), averaged.
//   - CoOp (Zhou et al. 2022, "Learning to Prompt for Vision-Language
//     Models"): M learned context vectors replace the template's words,
//     shared by all classes or one set per class (CSC), the class name at
//     the end, in the middle or at the front.
//   - CoCoOp (Zhou et al. 2022, "Conditional Prompt Learning"): a meta-net
//     π (Linear–ReLU–Linear) shifts every context vector by π(f(x)), so each
//     image gets its own prompts.
//   - MaPLe (Khattak et al. 2023, "Multi-modal Prompt Learning"): deep
//     prompts in the first J layers of both encoders, the vision prompts a
//     linear coupling of the language prompts.
//
// Every method is a Classifier: given images and class names it returns
// logits cos(f(x), g(t_k))·exp(logit_scale). Fit trains one on few shots;
// Evaluate measures accuracy; BaseToNew runs the base-to-new protocol into a
// Report. The encoders are frozen (the constructors call nn.Freeze on the
// model) and never modified.
//
// Pretrain trains a tiny CLIP contrastively, in seconds, on a synthetic
// image–caption task (data/shapes), so the methods have a dual encoder to
// adapt without downloading one.
package prompt
