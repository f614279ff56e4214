// Package peft adapts graft models with parameter-efficient fine-tuning
// methods the way Hugging Face PEFT does: a method's configuration names the
// modules to adapt (by dotted name, dotted suffix, regular expression or
// "all-linear"), Inject wraps each of them in a layer that keeps the frozen
// base layer and adds the method's trainable parameters, and the returned
// Model manages several named adapters on the one model — add, activate,
// disable, delete, merge into the base weights, unload — and saves them in
// PEFT's layout (adapter_config.json and adapter_model.safetensors), so
// Python's PEFT reads graft's adapters and graft reads PEFT's.
//
// In-memory parameter names follow PEFT's: a LoRA-wrapped layer
// "h.0.attn.c_attn" holds "h.0.attn.c_attn.base_layer.weight",
// "h.0.attn.c_attn.lora_A.default.weight" and
// "h.0.attn.c_attn.lora_B.default.weight". nn.Summary of an adapted model
// attributes each parameter to its adapter and prints the trainable-parameter
// line as PEFT's print_trainable_parameters does.
//
// Methods plug in through two interfaces: a Method (a configuration: its
// peft_type, its targets, how to wrap one layer) and the Tuner it produces
// (the wrapping layer: forward, activation, merge, unmerge). LoRA
// (LoraConfig, LoraLayer) is the first.
//
// LoRA's variants: DoRA (LoraConfig.UseDoRA: a magnitude vector per output
// feature, saved as PEFT saves it), MoSLoRA (LoraConfig.UseMixer: an r×r
// mixer between B and A, saved with the graft-specific use_mixer) and Hydra
// (HydraConfig, HydraLayer: a parallel and a sequential low-rank branch,
// saved with graft's peft_type "HYDRA").
//
// VeRA (VeraConfig) and Tied-LoRA
// (TiedLoraConfig, graft's peft_type "TIED_LORA") share matrices across the
// layers they adapt: every layer references the same tensors, so a model
// lists and counts them once, and they are saved once under
// "base_model.<name>" (PEFT's "base_model.vera_A"). HRA (HRAConfig) rotates
// the input space by Householder reflections.
//
// IA3Config (PEFT's IA3, saved as "<module>.ia3_l") rescales outputs or feed-forward inputs;
// BottleneckConfig (Houlsby/Pfeiffer presets) and FusionConfig are
// AdapterHub's bottleneck adapters and AdapterFusion, saved in PEFT's layout
// under graft's own peft_types "BOTTLENECK" and "BOTTLENECK_FUSION".
//
// Over LoRA adapters: Model.ForwardWithAdapters picks an adapter per example
// of a batch; NewXLora mixes trained LoRAs with learned token-level gates
// (X-LoRA); Model.ChainStep merges an adapter for good and starts a fresh one
// (Chain of LoRA). Saved adapters record their base weights
// (graft_base_fingerprint): loading one trained on another base, or merging
// adapters naming different base models, is refused.
//
// Prompt learning wraps no layer: InjectPrompt adapts a GPT-2 or BERT model
// with soft prompt tuning (PromptTuningConfig: learned vectors prepended to
// the token embeddings) or prefix tuning (PrefixTuningConfig: learned keys
// and values prepended in every attention layer, optionally through an MLP),
// giving a PromptModel; Save and LoadPrompt use PEFT's layout (one tensor,
// "prompt_embeddings").
package peft
