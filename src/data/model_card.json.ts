// The churn model's card — of the model that scored this warehouse (marts.model_card): feature
// order and encodings for the what-if panel. `model_file_matches` says whether
// models/churn_model.onnx (what the browser runs) is the model that scored the build.
import {createHash} from "node:crypto";
import {existsSync} from "node:fs";
import {readFile} from "node:fs/promises";
import {fileURLToPath} from "node:url";
import {modelCard, withWarehouse, writeJson} from "./_lib/read-warehouse.ts";

const onnxFile = fileURLToPath(new URL("../../models/churn_model.onnx", import.meta.url));

const card = await withWarehouse((w) => modelCard(w));
const fileSha = existsSync(onnxFile)
  ? createHash("sha256")
      .update(await readFile(onnxFile))
      .digest("hex")
  : null;
writeJson({
  version: card.version,
  trained_at: card.trained_at,
  features: card.features,
  onnx: card.onnx,
  onnx_sha256: card.onnx_sha256 ?? null,
  model_file_matches: typeof card.onnx_sha256 === "string" ? card.onnx_sha256 === fileSha : null,
});
