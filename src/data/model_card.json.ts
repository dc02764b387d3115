// The churn model's card — of the model that scored this warehouse (marts.model_card), else
// models/churn_model.card.json: feature order and encodings for the what-if panel. `null` when
// there is no model. `model_file_matches` says whether models/churn_model.onnx (what the browser
// runs) is the model that scored the build.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { withWarehouse, writeJson } from "./_lib/warehouse.ts";

const cardFile = fileURLToPath(new URL("../../models/churn_model.card.json", import.meta.url));
const onnxFile = fileURLToPath(new URL("../../models/churn_model.onnx", import.meta.url));

const fromWarehouse = await withWarehouse(async (w) =>
  (await w.hasTable("marts.model_card")) ? (await w.rows<{ card_json: string }>(`SELECT card_json FROM marts.model_card LIMIT 1`))[0]?.card_json ?? null : null,
);
const card = (fromWarehouse ? JSON.parse(fromWarehouse) : existsSync(cardFile) ? JSON.parse(await readFile(cardFile, "utf-8")) : null) as Record<string, unknown> | null;
const fileSha = existsSync(onnxFile) ? createHash("sha256").update(await readFile(onnxFile)).digest("hex") : null;
writeJson(
  card && {
    version: card.version,
    trained_at: card.trained_at,
    features: card.features,
    onnx: card.onnx,
    onnx_sha256: card.onnx_sha256 ?? null,
    model_file_matches: typeof card.onnx_sha256 === "string" ? card.onnx_sha256 === fileSha : null,
  },
);
