#!/usr/bin/env bash
# Fetches the MobileNetV2-1.0 of the npm package nsfwjs 4.3.0 (MIT) and writes it as a plain
# TensorFlow.js layers model that vidcolor-train reads with --backbone-weights DIR:
# DIR/model.json (topology + weightsManifest) and DIR/group1-shard1of1.bin.
#
# nsfwjs ships the model as two browserified JS modules: one exports the model.json object, the
# other the weight shard as a base64 string. The weights stay as they are: uint8 with a
# per-tensor min and scale (the manifest's "quantization"), dequantized by read_tfjs_weights().
# The network is Keras' MobileNetV2 (alpha 1.0, ImageNet-pretrained, then fine-tuned by nsfwjs
# for a 5-class task) with Keras' layer names; it expects RGB in [0, 1] (nsfwjs divides by 255),
# not [-1, 1] like the shared MobileNetV2-0.35. ModelConfig's backbone "mobilenetv2-1.0-nsfwjs"
# carries that range (docs/model/BACKBONES.md).
#
# usage: scripts/fetch-backbone.sh [OUT_DIR]   (default out/weights/mobilenetv2-1.0-nsfwjs)
# Needs node and npm (Debian: nodejs npm) and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/weights/mobilenetv2-1.0-nsfwjs}
version=4.3.0
# The tarball's SHA-512, as the npm registry lists it ("integrity"): what we convert is what
# was measured.
integrity=sha512-WTKDte0vp1X97N1h34P79G/hG+sVT3+TnDz9di1WseIJR93v11E4viNX7Vg9WsO6HYoR772Nzq2iM8jo3XBZ+g==

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "fetch-backbone: needs $tool (apt-get install nodejs npm)" >&2; exit 1; }
done
if [ -s "$out/model.json" ] && [ -s "$out/group1-shard1of1.bin" ]; then
  echo "fetch-backbone: $out already holds the model"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-backbone: npm pack nsfwjs@$version"
(cd "$work" && npm pack --silent "nsfwjs@$version" >/dev/null)
tarball="$work/nsfwjs-$version.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "fetch-backbone: $tarball has integrity $got, expected $integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/dist/models/mobilenet_v2
mkdir -p "$out"
node - "$work/package/dist/models/mobilenet_v2" "$out" <<'EOF'
const fs = require("fs"), path = require("path");
const [src, dst] = process.argv.slice(2);
const model = require(path.resolve(src, "model.min.js"));
const shard = require(path.resolve(src, "group1-shard1of1.min.js"));
if (!model.weightsManifest || model.weightsManifest.length !== 1 || typeof shard !== "string")
  throw new Error("nsfwjs layout changed: expected one manifest group and a base64 shard");
const bytes = Buffer.from(shard, "base64");
const group = model.weightsManifest[0];
let need = 0;
for (const w of group.weights) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  need += n * (w.quantization ? {uint8: 1, uint16: 2}[w.quantization.dtype] : 4);
}
if (need !== bytes.length) throw new Error(`shard is ${bytes.length} bytes, manifest needs ${need}`);
group.paths = ["group1-shard1of1.bin"];
fs.writeFileSync(path.join(dst, "group1-shard1of1.bin"), bytes);
fs.writeFileSync(path.join(dst, "model.json"), JSON.stringify(model));
console.log(`fetch-backbone: wrote ${dst}/model.json (${group.weights.length} tensors, ${bytes.length} bytes)`);
EOF
