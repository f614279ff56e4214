// reference.cjs — the JavaScript side of models/tokenizer's reference tests.
// It reads one JSON request on stdin:
//   {"gpt3": DIR or null,   // gpt-3-encoder's package directory
//    "hf": DIR,             // @huggingface/tokenizers' package directory
//    "tokenizer": FILE,     // a tokenizer.json (written by graft) for it to load
//    "texts": [...], "pairs": [[a, b], ...]}
// and writes the encodings and decodings of both libraries as JSON on stdout.
"use strict";
const fs = require("fs");
const path = require("path");

const req = JSON.parse(fs.readFileSync(0, "utf8"));
const out = {};

if (req.gpt3) {
	const enc = require(path.join(req.gpt3, "index.js"));
	out.gpt3 = req.texts.map((t) => {
		const ids = enc.encode(t);
		return { ids, decoded: enc.decode(ids) };
	});
}

if (req.hf && req.tokenizer) {
	const { Tokenizer } = require(path.join(req.hf, "dist", "tokenizers.cjs"));
	const tok = new Tokenizer(JSON.parse(fs.readFileSync(req.tokenizer, "utf8")), {});
	const decode = (ids, skip) =>
		ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
	const one = (a, b) => {
		const e = tok.encode(a, { text_pair: b, return_token_type_ids: true });
		return {
			ids: e.ids,
			tokens: e.tokens,
			type_ids: e.token_type_ids || null,
			decoded: decode(e.ids, false),
			decoded_skip: decode(e.ids, true),
		};
	};
	out.hf = req.texts.map((t) => one(t, null));
	out.hf_pairs = (req.pairs || []).map(([a, b]) => one(a, b));
}

process.stdout.write(JSON.stringify(out));
